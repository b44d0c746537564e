#ifndef BENCH_LAYER_PROFILE_H_
#define BENCH_LAYER_PROFILE_H_

#include <ATen/record_function.h>

#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"

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

// Runs `work` once under a LayerProfile and prints to stderr a table row per
// kind of layer, "| <label> | <kind> | seconds | share of the wall time |",
// the largest first (kinds under half a percent left out), time outside
// any operator as "(outside operators)".
absl::Status PrintLayerProfile(const std::string& label, const std::function<absl::Status()>& work);

}  // namespace codec::bench

#endif  // BENCH_LAYER_PROFILE_H_
