#include "backends/kernels/polyphase_conv_transpose.h"

#include <ATen/ATen.h>
#include <ATen/ops/mkldnn_convolution.h>
#include <ATen/record_function.h>

#include <memory>

#include "backends/kernels/conv_precision.h"
#include "backends/kernels/conv_spec.h"
#include "backends/kernels/host_kernels.h"
#include "backends/kernels/weight_cache.h"

namespace codec::nn {
namespace {

// The phases' weights and bias: output channel o * stride + r holds
// channel o's phase r.
struct PhaseWeights {
  at::Tensor weight;  // [out * stride, in, taps]
  at::Tensor bias;    // [out * stride] or undefined.
};

int64_t TapsPerPhase(int64_t kernel, int64_t stride) { return (kernel + stride - 1) / stride; }

PhaseWeights MakePhaseWeights(const at::Tensor& weight, const at::Tensor& bias, int64_t stride) {
  const int64_t in = weight.size(0), out = weight.size(1), kernel = weight.size(2);
  const int64_t taps = TapsPerPhase(kernel, stride);
  // Tap j of phase r is kernel tap j * stride + r (zero past the kernel).
  // The convolution correlates, so frame t's output reads input frame
  // t - j through tap (taps - 1 - j): the taps run backwards.
  const at::Tensor phases = at::constant_pad_nd(weight, {0, taps * stride - kernel})
                                .view({in, out, taps, stride})
                                .flip({2})
                                .permute({1, 3, 0, 2})  // [out, stride, in, taps]
                                .reshape({out * stride, in, taps})
                                .contiguous();
  return {phases, bias.defined() ? bias.repeat_interleave(stride).contiguous() : at::Tensor()};
}

bool UsesPhases(const at::Tensor& x) {
  return UsesExactHostKernels(x) && x.scalar_type() == at::kFloat && at::hasMKLDNN();
}

}  // namespace

at::Tensor FullConvTranspose1d(const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, int64_t stride) {
  RECORD_USER_SCOPE("codec::conv_transpose");  // For profilers; free without one.
  const int64_t frames = x.size(2), out = weight.size(1), kernel = weight.size(2);
  const int64_t length = (frames - 1) * stride + kernel;
  if (!UsesPhases(x)) {
    return at::conv_transpose1d(x, weight, bias, at::IntArrayRef(stride));
  }
  // Streams take the bias apart from the weights of the same layer.
  static auto* with_bias = new WeightCache<PhaseWeights>();
  static auto* without_bias = new WeightCache<PhaseWeights>();
  const std::shared_ptr<const PhaseWeights> phases =
      (bias.defined() ? with_bias : without_bias)->Get(weight, [&] {
        return std::make_shared<const PhaseWeights>(MakePhaseWeights(weight, bias, stride));
      });
  const int64_t taps = TapsPerPhase(kernel, stride);
  // taps - 1 zero frames on each side: every frame that reaches an output
  // sample, frames + taps - 1 output frames of `stride` samples each.
  const at::Tensor y =
      ConvInBfloat16(x)
          ? Bfloat16Conv1d(x, phases->weight, phases->bias, taps - 1, 1, 1, /*groups=*/1)
          : at::mkldnn_convolution(x.contiguous(), phases->weight, phases->bias,
                                   at::IntArrayRef(taps - 1), at::IntArrayRef(1),
                                   at::IntArrayRef(1), /*groups=*/1);
  const int64_t out_frames = y.size(2);
  return y.view({x.size(0), out, stride, out_frames})
      .transpose(2, 3)
      .reshape({x.size(0), out, out_frames * stride})
      .narrow(2, 0, length);
}

at::Tensor ConvTranspose1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t padding, int64_t output_padding) {
  TORCH_CHECK(output_padding <= padding, "output_padding ", output_padding,
              " past the full convolution (padding ", padding, ")");
  if (!UsesPhases(x)) {
    return at::conv_transpose1d(x, weight, bias, at::IntArrayRef(stride), at::IntArrayRef(padding),
                                at::IntArrayRef(output_padding));
  }
  const at::Tensor full = FullConvTranspose1d(x, weight, bias, stride);
  return full.narrow(2, padding, full.size(2) - 2 * padding + output_padding);
}

at::Tensor ConvTranspose1dForward(const torch::nn::ConvTranspose1dImpl& conv, const at::Tensor& x) {
  const StreamConvTransposeSpec spec = ConvTransposeSpecOf(conv);
  return ConvTranspose1d(x, spec.weight, spec.bias, spec.stride, spec.crop_left,
                         spec.crop_left - spec.crop_right);
}

}  // namespace codec::nn
