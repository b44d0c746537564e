#include "backends/nn/euclidean_rvq.h"

#include <ATen/ATen.h>

namespace codec::nn {

EuclideanCodebookImpl::EuclideanCodebookImpl(int64_t dim, int64_t codebook_size) {
  register_buffer("inited", at::zeros({1}));
  register_buffer("cluster_size", at::zeros({codebook_size}));
  embed_ = register_buffer("embed", at::zeros({codebook_size, dim}));
  register_buffer("embed_avg", at::zeros({codebook_size, dim}));
}

const at::Tensor& EuclideanCodebookImpl::EntryNorms() const {
  std::call_once(norms_once_, [this] {
    c10::InferenceMode inference;
    entry_norms_ = embed_.t().pow(2).sum(0, /*keepdim=*/true);
  });
  return entry_norms_;
}

at::Tensor EuclideanCodebookImpl::Encode(const at::Tensor& x) const {
  const at::Tensor distance = -(x.pow(2).sum(1, /*keepdim=*/true) - 2 * at::matmul(x, embed_.t()) +
                                EntryNorms());
  return std::get<1>(distance.max(-1));
}

at::Tensor EuclideanCodebookImpl::Decode(const at::Tensor& indices) const {
  return at::embedding(embed_, indices);
}

EuclideanRvqImpl::EuclideanRvqImpl(int64_t dim, int64_t codebook_size, int64_t num_quantizers) {
  auto vq = register_module("vq", std::make_shared<torch::nn::Module>());
  auto layers = vq->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < num_quantizers; ++i) {
    auto layer = std::make_shared<torch::nn::Module>();
    codebooks_.push_back(
        layer->register_module("_codebook", EuclideanCodebook(dim, codebook_size)));
    layers->push_back(layer);
  }
}

at::Tensor EuclideanRvqImpl::Encode(const at::Tensor& x, int64_t n_q) const {
  const int64_t batch = x.size(0), dim = x.size(1), frames = x.size(2);
  at::Tensor residual = x.transpose(1, 2).reshape({batch * frames, dim});
  std::vector<at::Tensor> codes;
  for (int64_t i = 0; i < n_q; ++i) {
    at::Tensor indices = codebooks_[i]->Encode(residual);
    residual = residual - codebooks_[i]->Decode(indices);
    codes.push_back(indices.view({batch, frames}));
  }
  return at::stack(codes);
}

at::Tensor EuclideanRvqImpl::Decode(const at::Tensor& codes) const {
  at::Tensor sum;
  for (int64_t i = 0; i < codes.size(0); ++i) {
    at::Tensor stage = codebooks_[i]->Decode(codes[i]);
    sum = sum.defined() ? sum + stage : stage;
  }
  return sum.transpose(1, 2);  // [B, T, dim] -> [B, dim, T]
}

}  // namespace codec::nn
