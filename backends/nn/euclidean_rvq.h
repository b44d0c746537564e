#ifndef BACKENDS_NN_EUCLIDEAN_RVQ_H_
#define BACKENDS_NN_EUCLIDEAN_RVQ_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <mutex>

#include "backends/kernels/blas_order_products.h"

namespace codec::nn {

// One codebook searched by plain Euclidean distance (EnCodec's
// EuclideanCodebook). Holds upstream's training buffers too (inited,
// cluster_size, embed_avg) so that checkpoints load strictly.
class EuclideanCodebookImpl : public torch::nn::Module {
 public:
  EuclideanCodebookImpl(int64_t dim, int64_t codebook_size);

  int64_t dim() const { return embed_.size(1); }
  at::Device device() const { return embed_.device(); }

  // x: [N, dim] -> nearest entry per row, int64 [N]. Uses upstream's
  // formula -(|x|^2 - 2 x.e + |e|^2) and its first-index-wins argmax, so
  // near-ties resolve as the reference does; the products row by row
  // (RowByRowProducts), so a frame's code does not depend on the frames
  // searched with it.
  at::Tensor Encode(const at::Tensor& x) const;
  // Encode for one row x: [dim], the same index without tensor operations,
  // which a stream's steps (a frame each) would spend more time in than in
  // the search.
  int64_t EncodeRow(const at::Tensor& x) const;
  // row[d] -= entry[d] for the entry `index` (valid), as offline subtracts.
  void SubtractEntry(int64_t index, float* row) const;
  // row[d] += entry[d], or row[d] = entry[d] when `first`, for the entry
  // `index` (checked), as offline sums stages.
  void AddEntry(int64_t index, float* row, bool first) const;
  // indices: int64 [...] -> entries [..., dim].
  at::Tensor Decode(const at::Tensor& indices) const;

 private:
  // What a search needs besides the entries, made once from the loaded
  // weights: |e|^2 of every entry, [1, codebook_size] (as every call would
  // compute it; recomputing it for each frame of a stream costs more than
  // the search) and the products with the entries.
  struct Search {
    at::Tensor entry_norms;
    std::unique_ptr<RowByRowProducts> products;
  };
  const Search& RowSearch() const;

  at::Tensor embed_;
  mutable std::once_flag search_once_;
  mutable Search search_;
};
TORCH_MODULE(EuclideanCodebook);

// Residual vector quantiser: stage i quantises what stages < i left over
// (EnCodec's ResidualVectorQuantizer; parameters under
// "vq.layers.<i>._codebook.*").
class EuclideanRvqImpl : public torch::nn::Module {
 public:
  EuclideanRvqImpl(int64_t dim, int64_t codebook_size, int64_t num_quantizers);

  int64_t num_quantizers() const { return static_cast<int64_t>(codebooks_.size()); }

  // x: [B, dim, T] -> codes int64 [n_q, B, T] from the first n_q stages.
  // A few frames (a stream's step) are searched row by row (EncodeRow), and
  // decoded by direct sums, as costly per frame as the matrix operations
  // were per call.
  at::Tensor Encode(const at::Tensor& x, int64_t n_q) const;
  // codes: [n_q, B, T] -> the sum of the stages' entries, [B, dim, T].
  at::Tensor Decode(const at::Tensor& codes) const;

 private:
  std::vector<EuclideanCodebook> codebooks_;
};
TORCH_MODULE(EuclideanRvq);

}  // namespace codec::nn

#endif  // BACKENDS_NN_EUCLIDEAN_RVQ_H_
