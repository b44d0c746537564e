#include "backends/nn/euclidean_rvq.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "backends/kernels/host_kernels.h"
#include "backends/kernels/tensor_convert.h"

namespace codec::nn {

EuclideanCodebookImpl::EuclideanCodebookImpl(int64_t dim, int64_t codebook_size) {
  register_buffer("inited", at::zeros({1}));
  register_buffer("cluster_size", at::zeros({codebook_size}));
  embed_ = register_buffer("embed", at::zeros({codebook_size, dim}));
  register_buffer("embed_avg", at::zeros({codebook_size, dim}));
}

const EuclideanCodebookImpl::Search& EuclideanCodebookImpl::RowSearch() const {
  std::call_once(search_once_, [this] {
    c10::InferenceMode inference;
    search_.entry_norms = embed_.t().pow(2).sum(0, /*keepdim=*/true);
    search_.products = std::make_unique<RowByRowProducts>(embed_);
  });
  return search_;
}

at::Tensor EuclideanCodebookImpl::Encode(const at::Tensor& x) const {
  const Search& search = RowSearch();
  const at::Tensor distance =
      -(x.pow(2).sum(1, /*keepdim=*/true) - 2 * (*search.products)(x) + search.entry_norms);
  return std::get<1>(distance.max(-1));
}

int64_t EuclideanCodebookImpl::EncodeRow(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() == 1 && x.is_contiguous() && x.scalar_type() == at::kFloat &&
                  x.size(0) == embed_.size(1),
              "EncodeRow needs a contiguous float [", embed_.size(1), "] row, got ", x.sizes());
  const Search& search = RowSearch();
  // Encode's formula, term by term, with the same roundings.
  const float xx = x.unsqueeze(0).pow(2).sum(1).item<float>();
  std::vector<float> dots(search.products->entries());
  search.products->Compute(x.data_ptr<float>(), /*rows=*/1, dots.data());
  const float* squared = search.entry_norms.data_ptr<float>();
  int64_t best = 0;
  float best_distance = -((xx - 2 * dots[0]) + squared[0]);
  bool tie_or_nan = std::isnan(best_distance);
  for (int64_t j = 1; j < static_cast<int64_t>(dots.size()); ++j) {
    const float distance = -((xx - 2 * dots[j]) + squared[j]);
    tie_or_nan |= std::isnan(distance) || distance == best_distance;
    if (distance > best_distance) {
      best = j;
      best_distance = distance;
      tie_or_nan = std::isnan(distance);
    }
  }
  // Which of equal entries libtorch's reduction returns is its business.
  if (tie_or_nan) return Encode(x.unsqueeze(0)).item<int64_t>();
  return best;
}

void EuclideanCodebookImpl::SubtractEntry(int64_t index, float* row) const {
  const int64_t dim = embed_.size(1);
  const float* entry = embed_.data_ptr<float>() + index * dim;
  for (int64_t d = 0; d < dim; ++d) row[d] -= entry[d];
}

void EuclideanCodebookImpl::AddEntry(int64_t index, float* row, bool first) const {
  const int64_t size = embed_.size(0), dim = embed_.size(1);
  TORCH_CHECK(index >= 0 && index < size, "code ", index, " outside the codebook's ", size,
              " entries");
  const float* entry = embed_.data_ptr<float>() + index * dim;
  for (int64_t d = 0; d < dim; ++d) row[d] = first ? entry[d] : row[d] + entry[d];
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
  if (UsesExactHostKernels(x) && batch * frames <= BlasOrderProducts::kMostRowsOneByOne) {
    const int64_t rows = batch * frames;
    at::Tensor codes = at::empty({n_q, rows}, x.options().dtype(at::kLong));
    int64_t* code = codes.data_ptr<int64_t>();
    for (int64_t r = 0; r < rows; ++r) {
      at::Tensor row = residual[r].clone();
      for (int64_t i = 0; i < n_q; ++i) {
        const int64_t index = codebooks_[i]->EncodeRow(row);
        code[i * rows + r] = index;
        codebooks_[i]->SubtractEntry(index, row.data_ptr<float>());
      }
    }
    return codes.view({n_q, batch, frames});
  }
  std::vector<at::Tensor> codes;
  for (int64_t i = 0; i < n_q; ++i) {
    at::Tensor indices = codebooks_[i]->Encode(residual);
    residual = residual - codebooks_[i]->Decode(indices);
    codes.push_back(indices.view({batch, frames}));
  }
  return at::stack(codes);
}

at::Tensor EuclideanRvqImpl::Decode(const at::Tensor& codes) const {
  const int64_t n_q = codes.size(0), batch = codes.size(1), frames = codes.size(2);
  TORCH_CHECK(n_q >= 1 && n_q <= num_quantizers(), n_q, " codebooks given, ", num_quantizers(),
              " in the quantiser");
  if (UsesExactHostKernels(codebooks_.front()->device()) &&
      batch * frames <= BlasOrderProducts::kMostRowsOneByOne) {
    const int64_t rows = batch * frames;
    const int64_t dim = codebooks_.front()->dim();
    const at::Tensor indices = codes.to(at::kLong).contiguous();
    const int64_t* index = indices.data_ptr<int64_t>();
    at::Tensor sum = at::empty({batch, frames, dim}, at::kFloat);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < n_q; ++i) {
        codebooks_[i]->AddEntry(index[i * rows + r], sum.data_ptr<float>() + r * dim, i == 0);
      }
    }
    return sum.transpose(1, 2);
  }
  const at::Tensor indices = ToDevice(codes, codebooks_.front()->device());
  at::Tensor sum;
  for (int64_t i = 0; i < n_q; ++i) {
    at::Tensor stage = codebooks_[i]->Decode(indices[i]);
    sum = sum.defined() ? sum + stage : stage;
  }
  return sum.transpose(1, 2);  // [B, T, dim] -> [B, dim, T]
}

}  // namespace codec::nn
