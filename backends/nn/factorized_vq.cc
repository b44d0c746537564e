#include "backends/nn/factorized_vq.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/nn/modules/container/modulelist.h>

#include "backends/kernels/tensor_convert.h"

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

const FactorizedVqImpl::Frames& FactorizedVqImpl::FrameProducts() const {
  std::call_once(frames_once_, [this] {
    c10::InferenceMode inference;
    frames_.in_proj =
        std::make_unique<RowByRowProducts>(in_proj_->weight.squeeze(-1), in_proj_->bias);
    frames_.out_proj =
        std::make_unique<RowByRowProducts>(out_proj_->weight.squeeze(-1), out_proj_->bias);
    const at::Tensor codebook = L2Normalize(codebook_->weight);
    frames_.codebook = std::make_unique<RowByRowProducts>(codebook);
    frames_.entry_norms = codebook.pow(2).sum(1, /*keepdim=*/true).t();
  });
  return frames_;
}

at::Tensor FactorizedVqImpl::ProjectOut(const at::Tensor& entries) const {
  const int64_t batch = entries.size(0), frames = entries.size(1);
  const at::Tensor latent = (*FrameProducts().out_proj)(entries.reshape({batch * frames, -1}))
                                .view({batch, frames, -1})
                                .transpose(1, 2);
  return stride_ > 1 ? latent.repeat_interleave(stride_, -1) : latent;
}

std::pair<at::Tensor, at::Tensor> FactorizedVqImpl::Quantize(const at::Tensor& residual) const {
  const Frames& products = FrameProducts();
  const at::Tensor pooled = stride_ > 1 ? at::avg_pool1d(residual, {stride_}, {stride_}) : residual;
  const int64_t batch = pooled.size(0);
  // [B*T, codebook_dim], frame by frame: upstream's in_proj, then its
  // "b d t -> (b t) d".
  const at::Tensor projected =
      (*products.in_proj)(pooled.transpose(1, 2).reshape({-1, pooled.size(1)}));
  const at::Tensor encodings = L2Normalize(projected);
  const at::Tensor distance = encodings.pow(2).sum(1, /*keepdim=*/true) -
                              2 * (*products.codebook)(encodings) + products.entry_norms;
  const at::Tensor codes = std::get<1>((-distance).max(1));
  const at::Tensor entries = at::embedding(codebook_->weight, codes);
  // Upstream's straight-through estimator, z_e + (z_q - z_e), rounds like this.
  const at::Tensor quantized =
      ProjectOut((projected + (entries - projected)).view({batch, -1, projected.size(1)}));
  return {quantized, codes.view({batch, -1})};
}

at::Tensor FactorizedVqImpl::Decode(const at::Tensor& codes) const {
  return ProjectOut(at::embedding(codebook_->weight, ToDevice(codes, codebook_->weight.device())));
}

FactorizedRvqImpl::FactorizedRvqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim,
                                     const std::vector<int64_t>& strides) {
  auto quantizers = register_module("quantizers", torch::nn::ModuleList());
  for (int64_t stride : strides) {
    stages_.push_back(FactorizedVq(input_dim, codebook_size, codebook_dim, stride));
    quantizers->push_back(stages_.back());
  }
}

std::vector<at::Tensor> FactorizedRvqImpl::Encode(const at::Tensor& latent, int64_t n_q) const {
  std::vector<at::Tensor> codes;
  at::Tensor residual = latent;
  for (int64_t i = 0; i < n_q; ++i) {
    auto [quantized, stage_codes] = stages_[i]->Quantize(residual);
    residual = residual - quantized;
    codes.push_back(stage_codes);
  }
  return codes;
}

at::Tensor FactorizedRvqImpl::Decode(const std::vector<at::Tensor>& codes) const {
  at::Tensor sum;
  for (size_t i = 0; i < codes.size(); ++i) {
    const at::Tensor stage = stages_[i]->Decode(codes[i]);
    sum = sum.defined() ? sum + stage : stage;
  }
  return sum;
}

}  // namespace codec::nn
