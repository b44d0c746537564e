#ifndef BACKENDS_NN_EUCLIDEAN_RVQ_H_
#define BACKENDS_NN_EUCLIDEAN_RVQ_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <mutex>

namespace codec::nn {

// One codebook searched by plain Euclidean distance (EnCodec's
// EuclideanCodebook). Holds upstream's training buffers too (inited,
// cluster_size, embed_avg) so that checkpoints load strictly.
class EuclideanCodebookImpl : public torch::nn::Module {
 public:
  EuclideanCodebookImpl(int64_t dim, int64_t codebook_size);

  // x: [N, dim] -> nearest entry per row, int64 [N]. Uses upstream's
  // formula -(|x|^2 - 2 x.e + |e|^2) and its first-index-wins argmax, so
  // near-ties resolve as the reference does.
  at::Tensor Encode(const at::Tensor& x) const;
  // indices: int64 [...] -> entries [..., dim].
  at::Tensor Decode(const at::Tensor& indices) const;

 private:
  // |e|^2 of every entry, [1, codebook_size]: computed once from the loaded
  // weights (as every call would compute it), since recomputing it for each
  // frame of a stream costs more than the search itself.
  const at::Tensor& EntryNorms() const;

  at::Tensor embed_;
  mutable std::once_flag norms_once_;
  mutable at::Tensor entry_norms_;
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
  at::Tensor Encode(const at::Tensor& x, int64_t n_q) const;
  // codes: [n_q, B, T] -> the sum of the stages' entries, [B, dim, T].
  at::Tensor Decode(const at::Tensor& codes) const;

 private:
  std::vector<EuclideanCodebook> codebooks_;
};
TORCH_MODULE(EuclideanRvq);

}  // namespace codec::nn

#endif  // BACKENDS_NN_EUCLIDEAN_RVQ_H_
