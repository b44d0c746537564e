#ifndef BENCH_OP_COUNT_H_
#define BENCH_OP_COUNT_H_

#include <ATen/record_function.h>

#include <cstdint>
#include <map>
#include <string>

namespace codec::bench {

// The operations the calling thread dispatches while an OpCount lives,
// counted with a thread-local RecordFunction callback: what a step costs in
// host work on a GPU, where every operation is a launch or a dispatch of
// several microseconds however small its tensors.
//
// Host syncs are counted apart. Reads of one value back to the host
// (`aten::_local_scalar_dense`) are split into those our code asks for
// (`.item()`: outermost) and those inside libtorch's own operations, which
// are its CPU kernels' business (a GPU runs other kernels for them).
// Copies from a device to the host, and our own downloads of a step's
// results (`codec::download`, nn/tensor_convert.h), wait for the device
// where there is one.
class OpCount {
 public:
  struct Counts {
    int64_t outermost = 0;  // Operations not called from another one.
    int64_t all = 0;        // Nested ones too.
    int64_t our_scalar_reads = 0;
    int64_t libtorch_scalar_reads = 0;
    int64_t device_to_host_copies = 0;
    int64_t downloads = 0;
    std::map<std::string, int64_t> outermost_by_name;
    std::map<std::string, int64_t> all_by_name;  // Nested ones too.
  };

  OpCount();
  ~OpCount();
  OpCount(const OpCount&) = delete;
  OpCount& operator=(const OpCount&) = delete;

  Counts counts() const;

 private:
  at::CallbackHandle handle_;
};

}  // namespace codec::bench

#endif  // BENCH_OP_COUNT_H_
