#include "backends/nn/factorized_vq.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

namespace codec::nn {
namespace {

at::Tensor L2Normalize(const at::Tensor& x) {  // Rows of [N, D], as F.normalize.
  return x / x.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12).expand_as(x);
}

}  // namespace

FactorizedVqImpl::FactorizedVqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim,
                                   int64_t stride)
    : stride_(stride) {
  in_proj_ = register_module(
      "in_proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(input_dim, codebook_dim, 1)));
  out_proj_ = register_module(
      "out_proj", torch::nn::Conv1d(torch::nn::Conv1dOptions(codebook_dim, input_dim, 1)));
  codebook_ = register_module("codebook", torch::nn::Embedding(codebook_size, codebook_dim));
}

at::Tensor FactorizedVqImpl::Project(torch::nn::Conv1d& projection, const at::Tensor& x,
                                     ConvKernel kernel) {
  if (kernel == ConvKernel::kBySize) return projection->forward(x);
  return LongInputConv1d(x, projection->weight, projection->bias, 1, 1, 1);
}

std::pair<at::Tensor, at::Tensor> FactorizedVqImpl::Quantize(const at::Tensor& residual,
                                                             ConvKernel kernel) {
  const at::Tensor pooled = stride_ > 1 ? at::avg_pool1d(residual, {stride_}, {stride_}) : residual;
  const at::Tensor projected = Project(in_proj_, pooled, kernel);  // [B, d, T]
  const int64_t batch = projected.size(0);
  const at::Tensor encodings =
      L2Normalize(projected.transpose(1, 2).reshape({-1, projected.size(1)}));
  const at::Tensor codebook = L2Normalize(codebook_->weight);
  const at::Tensor distance = encodings.pow(2).sum(1, /*keepdim=*/true) -
                              2 * at::matmul(encodings, codebook.t()) +
                              codebook.pow(2).sum(1, /*keepdim=*/true).t();
  const at::Tensor codes = std::get<1>((-distance).max(1)).view({batch, -1});
  const at::Tensor entries = at::embedding(codebook_->weight, codes).transpose(1, 2);
  // Upstream's straight-through estimator, z_e + (z_q - z_e), rounds like this.
  const at::Tensor quantized = Project(out_proj_, projected + (entries - projected), kernel);
  return {stride_ > 1 ? quantized.repeat_interleave(stride_, -1) : quantized, codes};
}

at::Tensor FactorizedVqImpl::Decode(const at::Tensor& codes) {
  const at::Tensor entries = at::embedding(codebook_->weight, codes).transpose(1, 2);
  const at::Tensor latent = out_proj_->forward(entries);
  return stride_ > 1 ? latent.repeat_interleave(stride_, -1) : latent;
}

FactorizedRvqImpl::FactorizedRvqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim,
                                     const std::vector<int64_t>& strides) {
  auto quantizers = register_module("quantizers", torch::nn::ModuleList());
  for (int64_t stride : strides) {
    stages_.push_back(FactorizedVq(input_dim, codebook_size, codebook_dim, stride));
    quantizers->push_back(stages_.back());
  }
}

std::vector<at::Tensor> FactorizedRvqImpl::Encode(const at::Tensor& latent, int64_t n_q,
                                                  ConvKernel kernel) {
  std::vector<at::Tensor> codes;
  at::Tensor residual = latent;
  for (int64_t i = 0; i < n_q; ++i) {
    auto [quantized, stage_codes] = stages_[i]->Quantize(residual, kernel);
    residual = residual - quantized;
    codes.push_back(stage_codes);
  }
  return codes;
}

at::Tensor FactorizedRvqImpl::Decode(const std::vector<at::Tensor>& codes) {
  at::Tensor sum;
  for (size_t i = 0; i < codes.size(); ++i) {
    const at::Tensor stage = stages_[i]->Decode(codes[i]);
    sum = sum.defined() ? sum + stage : stage;
  }
  return sum;
}

}  // namespace codec::nn
