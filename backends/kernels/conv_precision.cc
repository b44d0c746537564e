#include "backends/kernels/conv_precision.h"

#include <ATen/ATen.h>
#include <ATen/ops/mkldnn_convolution.h>

#include <atomic>
#include <memory>

#include "absl/strings/str_cat.h"
#include "backends/kernels/conv_spec.h"
#include "backends/kernels/weight_cache.h"

namespace codec::nn {
namespace {

std::atomic<ConvPrecision> precision{ConvPrecision::kFloat32};

// A weight and its bias in bfloat16.
struct Bfloat16Weights {
  at::Tensor weight;
  at::Tensor bias;
};

}  // namespace

absl::StatusOr<ConvPrecision> ParseConvPrecision(absl::string_view name) {
  if (name == "fp32") return ConvPrecision::kFloat32;
  if (name == "bf16") return ConvPrecision::kBfloat16;
  return absl::InvalidArgumentError(absl::StrCat("unknown precision '", name, "': fp32 or bf16"));
}

std::string ConvPrecisionName(ConvPrecision p) {
  return p == ConvPrecision::kBfloat16 ? "bf16" : "fp32";
}

absl::Status SetConvPrecision(ConvPrecision p) {
  if (p == ConvPrecision::kBfloat16 && !(at::hasMKLDNN() && __builtin_cpu_supports("avx512bf16"))) {
    return absl::FailedPreconditionError(
        "bf16 needs a CPU with AVX-512 BF16 (and libtorch with oneDNN); this one has none");
  }
  precision = p;
  return absl::OkStatus();
}

absl::Status SetConvPrecision(absl::string_view name) {
  absl::StatusOr<ConvPrecision> parsed = ParseConvPrecision(name);
  return parsed.ok() ? SetConvPrecision(*parsed) : parsed.status();
}

ConvPrecision CurrentConvPrecision() { return precision; }

bool ConvInBfloat16(const at::Tensor& x, int64_t groups) {
  return precision == ConvPrecision::kBfloat16 && groups == 1 && x.is_cpu() &&
         x.scalar_type() == at::kFloat;
}

at::Tensor Bfloat16Conv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          int64_t padding, int64_t stride, int64_t dilation, int64_t groups) {
  // Streams take a conv's bias apart from its weights (transposed convs).
  static auto* with_bias = new WeightCache<Bfloat16Weights>();
  static auto* without_bias = new WeightCache<Bfloat16Weights>();
  const std::shared_ptr<const Bfloat16Weights> weights =
      (bias.defined() ? with_bias : without_bias)->Get(weight, [&] {
        return std::make_shared<const Bfloat16Weights>(Bfloat16Weights{
            weight.to(at::kBFloat16), bias.defined() ? bias.to(at::kBFloat16) : at::Tensor()});
      });
  return at::mkldnn_convolution(x.to(at::kBFloat16).contiguous(), weights->weight, weights->bias,
                                at::IntArrayRef(padding), at::IntArrayRef(stride),
                                at::IntArrayRef(dilation), groups)
      .to(at::kFloat);
}

at::Tensor Bfloat16Linear(const at::Tensor& x, const at::Tensor& weight) {
  static auto* cache = new WeightCache<at::Tensor>();
  const std::shared_ptr<const at::Tensor> converted = cache->Get(
      weight, [&] { return std::make_shared<const at::Tensor>(weight.to(at::kBFloat16)); });
  return at::linear(x.to(at::kBFloat16), *converted).to(at::kFloat);
}

at::Tensor PrecisionConv1dImpl::forward(const at::Tensor& x) {
  if (!ConvInBfloat16(x, options.groups())) return torch::nn::Conv1dImpl::forward(x);
  const StreamConvSpec spec = ConvSpecOf(*this);
  return Bfloat16Conv1d(x, spec.weight, spec.bias, spec.left, spec.stride, spec.dilation,
                        spec.groups);
}

}  // namespace codec::nn
