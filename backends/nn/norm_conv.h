#ifndef BACKENDS_NN_NORM_CONV_H_
#define BACKENDS_NN_NORM_CONV_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "backends/kernels/padding.h"
#include "backends/streaming/receptive_field.h"
#include "backends/streaming/stream_modules.h"

namespace codec::nn {

// How a convolution is normalised. Weight norm is folded into the weight
// at load (see weight_norm.h), so it needs nothing at run time;
// time-group-norm applies GroupNorm(1 group) to the convolution's output.
enum class ConvNorm { kWeightNorm, kTimeGroupNorm };

struct ConvSpec {
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t kernel_size = 1;
  int64_t stride = 1;
  int64_t dilation = 1;
  ConvNorm norm = ConvNorm::kWeightNorm;
  bool causal = false;
  PadMode pad_mode = PadMode::kReflect;
  // Transposed convs: the share of the causal trim taken from the right.
  double trim_right_ratio = 1.0;
};

// A convolution followed by its optional norm; parameters live under
// "<conv_name>.*" and "norm.*", mirroring upstream's NormConv1d.
class NormConvImpl : public torch::nn::Module {
 public:
  NormConvImpl(torch::nn::AnyModule conv, const std::string& conv_name, const ConvSpec& spec);
  at::Tensor forward(const at::Tensor& x);

  // The convolution's weight and bias; a time-group norm (over the whole
  // input) cannot stream, so asking for them then is an error.
  std::pair<at::Tensor, at::Tensor> StreamableWeights() const;

 private:
  torch::nn::AnyModule conv_;
  torch::nn::GroupNorm norm_{nullptr};
};
TORCH_MODULE(NormConv);

// A 1-D convolution that pads its input itself (SEANet's SConv1d): causal
// convs pad all on the left, others split the padding, and extra right
// padding completes the last window. Output length is ceil(T / stride).
class PaddedConv1dImpl : public torch::nn::Module, public Streamable {
 public:
  explicit PaddedConv1dImpl(const ConvSpec& spec);
  at::Tensor forward(const at::Tensor& x);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  ConvSpec spec_;
  NormConv conv_{nullptr};
};
TORCH_MODULE(PaddedConv1d);

// A transposed 1-D convolution that trims its `kernel - stride` surplus
// samples (SEANet's SConvTranspose1d): causal ones by trim_right_ratio,
// others half on each side. Output length is T * stride.
class TrimmedConvTranspose1dImpl : public torch::nn::Module, public Streamable {
 public:
  explicit TrimmedConvTranspose1dImpl(const ConvSpec& spec);
  at::Tensor forward(const at::Tensor& x);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  ConvSpec spec_;
  NormConv convtr_{nullptr};
};
TORCH_MODULE(TrimmedConvTranspose1d);

// The reach of a PaddedConv1d / TrimmedConvTranspose1d of `spec`.
LayerReach PaddedConvReach(const ConvSpec& spec);
LayerReach TrimmedConvTransposeReach(const ConvSpec& spec);

}  // namespace codec::nn

#endif  // BACKENDS_NN_NORM_CONV_H_
