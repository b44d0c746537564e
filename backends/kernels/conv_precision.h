#ifndef BACKENDS_KERNELS_CONV_PRECISION_H_
#define BACKENDS_KERNELS_CONV_PRECISION_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace codec::nn {

// The precision every CPU convolution of the process runs in (as
// --allow_tf32 is for GPUs): float32, or bfloat16 inputs and weights with
// products summed in float32, about twice as fast where the CPU multiplies
// bfloat16 natively (AVX-512 BF16). Only convolutions, transposed
// convolutions and Mimi's transformer projections change: activations,
// attention scores, LSTMs and the quantisers' projections and codebook
// searches stay float32.
enum class ConvPrecision { kFloat32, kBfloat16 };

// "fp32" or "bf16"; INVALID_ARGUMENT naming the value otherwise.
absl::StatusOr<ConvPrecision> ParseConvPrecision(absl::string_view name);
std::string ConvPrecisionName(ConvPrecision precision);

// Sets the process's precision, at startup, before models run.
// FAILED_PRECONDITION for bfloat16 on a CPU without AVX-512 BF16 (oneDNN
// would emulate it, slower than float32) or a libtorch without oneDNN.
absl::Status SetConvPrecision(ConvPrecision precision);
// The same from its name (a --precision flag's value).
absl::Status SetConvPrecision(absl::string_view name);
ConvPrecision CurrentConvPrecision();

// Whether a convolution of `x` in `groups` groups runs in bfloat16: the
// precision is bfloat16, x is a float CPU tensor and the conv is not grouped
// (depthwise and grouped convs are bound by memory, not arithmetic: the
// conversions would cost more than the products save).
bool ConvInBfloat16(const at::Tensor& x, int64_t groups = 1);

// conv1d with `padding` zeros on each side in bfloat16 on oneDNN: x and the
// weights (converted once per weight tensor) rounded to bfloat16, the
// result float.
at::Tensor Bfloat16Conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          int64_t padding, int64_t stride, int64_t dilation, int64_t groups);

// x [rows, in] times weight [out, in] transposed, in bfloat16 on oneDNN:
// x and the weight (converted once per weight tensor) rounded to bfloat16,
// the result float. For dense projections where ConvInBfloat16(x).
at::Tensor Bfloat16Linear(const at::Tensor& x, const at::Tensor& weight);

// torch's Conv1d (explicit zero padding) that runs in the process's
// precision (ConvInBfloat16); parameters and streaming as torch's.
class PrecisionConv1dImpl : public torch::nn::Conv1dImpl {
 public:
  using torch::nn::Conv1dImpl::Conv1dImpl;
  at::Tensor forward(const at::Tensor& x);
};
TORCH_MODULE(PrecisionConv1d);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_CONV_PRECISION_H_
