#ifndef BACKENDS_NN_FACTORIZED_VQ_H_
#define BACKENDS_NN_FACTORIZED_VQ_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <mutex>
#include <vector>

#include "backends/kernels/blas_order_products.h"

namespace codec::nn {

// One factorised, L2-normalised vector quantiser (DAC, SNAC): project the
// latent to the codebook dimension, find the nearest entry by cosine
// distance, and project the raw entry back. With stride > 1 (SNAC) it works
// on the latent average-pooled by `stride` and repeats its output back.
// Parameters: in_proj.*, out_proj.* (1x1 convs), codebook.weight.
//
// The projections and distances take each frame's products on their own
// (RowByRowProducts), so a frame quantises to the same bits whether it comes
// in a whole file or in a stream's chunk: libtorch would pick its 1x1-conv
// kernel by the input's size and OpenBLAS rounds a frame by the number of
// frames, so neither would.
class FactorizedVqImpl : public torch::nn::Module {
 public:
  FactorizedVqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim, int64_t stride);

  int64_t stride() const { return stride_; }

  // residual [B, input_dim, T] -> (its quantised value [B, input_dim, T],
  // codes int64 [B, T / stride]).
  std::pair<at::Tensor, at::Tensor> Quantize(const at::Tensor& residual) const;
  // codes [B, T'] -> [B, input_dim, T' * stride].
  at::Tensor Decode(const at::Tensor& codes) const;

 private:
  // Made from the loaded parameters on first use.
  struct Frames {
    std::unique_ptr<RowByRowProducts> in_proj;   // [B*T, input_dim] -> [B*T, codebook_dim]
    std::unique_ptr<RowByRowProducts> out_proj;  // [B*T, codebook_dim] -> [B*T, input_dim]
    std::unique_ptr<RowByRowProducts> codebook;  // [N, codebook_dim] -> [N, codebook_size]
    at::Tensor entry_norms;                      // [1, codebook_size]
  };
  const Frames& FrameProducts() const;
  // entries [B, T', codebook_dim] -> [B, input_dim, T' * stride].
  at::Tensor ProjectOut(const at::Tensor& entries) const;

  int64_t stride_;
  mutable std::once_flag frames_once_;
  mutable Frames frames_;
  torch::nn::Conv1d in_proj_{nullptr};
  torch::nn::Conv1d out_proj_{nullptr};
  torch::nn::Embedding codebook_{nullptr};
};
TORCH_MODULE(FactorizedVq);

// Residual stack of FactorizedVq stages under "quantizers.<i>.*".
class FactorizedRvqImpl : public torch::nn::Module {
 public:
  FactorizedRvqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim,
                    const std::vector<int64_t>& strides);

  int64_t num_quantizers() const { return static_cast<int64_t>(stages_.size()); }
  int64_t stride(int64_t i) const { return stages_[i]->stride(); }

  // latent [B, D, T] -> codes of the first n_q stages, each [B, T / stride_i].
  std::vector<at::Tensor> Encode(const at::Tensor& latent, int64_t n_q) const;
  // codes of the first codes.size() stages -> the summed latent [B, D, T].
  at::Tensor Decode(const std::vector<at::Tensor>& codes) const;

 private:
  std::vector<FactorizedVq> stages_;
};
TORCH_MODULE(FactorizedRvq);

}  // namespace codec::nn

#endif  // BACKENDS_NN_FACTORIZED_VQ_H_
