#ifndef BENCH_LAYER_PROFILE_H_
#define BENCH_LAYER_PROFILE_H_

#include <ATen/record_function.h>

#include <map>
#include <string>

namespace codec::bench {

// Where a model call's time goes, by kind of layer: the wall time of each
// operator the calling thread starts (its nested operators included, so
// nothing counts twice), filed under the kind of layer it computes. Our
// kernels announce themselves as "codec::<kind>" (Snake, the polyphase
// transposed conv); libtorch's convolutions are told apart by their weight's
// shape (1x1, depthwise, wider); other operators go under their own name.
// Time outside any operator (our own loops) is what the caller's wall
// time leaves.
class LayerProfile {
 public:
  LayerProfile();
  ~LayerProfile();
  LayerProfile(const LayerProfile&) = delete;
  LayerProfile& operator=(const LayerProfile&) = delete;

  // Seconds per kind of layer so far.
  std::map<std::string, double> Seconds() const;

 private:
  at::CallbackHandle handle_;
};

}  // namespace codec::bench

#endif  // BENCH_LAYER_PROFILE_H_
