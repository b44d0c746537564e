#ifndef BACKENDS_KERNELS_HOST_KERNELS_H_
#define BACKENDS_KERNELS_HOST_KERNELS_H_

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace codec::nn {

// Which kernels the layers of a CPU model take.
//
// kExact: our host kernels that round as the reference does on the CPU
// whatever the BLAS and the number of frames (row-by-row products, the
// reference-order im2col conv, the one-pass Snake, polyphase transposed
// convs, the one-row quantiser loops, the attention's in-order window sums).
// They read tensors through data_ptr on the host, so a GPU model never
// takes them.
//
// kDeviceSequence: libtorch's own operations, the sequence a GPU model
// runs, on the CPU: tests and benchmarks without a GPU check what a GPU
// step dispatches (its operations, its host syncs) and that it stays within
// the reference's tolerances.
enum class HostKernels { kExact, kDeviceSequence };

// "exact" or "device"; INVALID_ARGUMENT naming the value otherwise.
absl::StatusOr<HostKernels> ParseHostKernels(absl::string_view name);

// Sets the process's choice, at startup or between model calls (a call in
// flight may see either).
void SetHostKernels(HostKernels kernels);
HostKernels CurrentHostKernels();

// Whether a layer computing on `x` takes the exact host kernels: `x` is a
// CPU tensor and the process's choice is kExact.
bool UsesExactHostKernels(const at::Tensor& x);
// The same for a layer whose weights are on `device`.
bool UsesExactHostKernels(at::Device device);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_HOST_KERNELS_H_
