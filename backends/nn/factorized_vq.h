#ifndef BACKENDS_NN_FACTORIZED_VQ_H_
#define BACKENDS_NN_FACTORIZED_VQ_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "backends/nn/conv_kernel.h"

namespace codec::nn {

// One factorised, L2-normalised vector quantiser (DAC, SNAC): project the
// latent to the codebook dimension, find the nearest entry by cosine
// distance, and project the raw entry back. With stride > 1 (SNAC) it works
// on the latent average-pooled by `stride` and repeats its output back.
// Parameters: in_proj.*, out_proj.* (1x1 convs), codebook.weight.
class FactorizedVqImpl : public torch::nn::Module {
 public:
  FactorizedVqImpl(int64_t input_dim, int64_t codebook_size, int64_t codebook_dim, int64_t stride);

  int64_t stride() const { return stride_; }

  // residual [B, input_dim, T] -> (its quantised value [B, input_dim, T],
  // codes int64 [B, T / stride]).
  // `kernel` picks the projections' conv kernel (see conv_kernel.h).
  std::pair<at::Tensor, at::Tensor> Quantize(const at::Tensor& residual,
                                             ConvKernel kernel = ConvKernel::kBySize);
  // codes [B, T'] -> [B, input_dim, T' * stride].
  at::Tensor Decode(const at::Tensor& codes);

 private:
  at::Tensor Project(torch::nn::Conv1d& projection, const at::Tensor& x,
                     ConvKernel kernel);

  int64_t stride_;
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
  std::vector<at::Tensor> Encode(const at::Tensor& latent, int64_t n_q,
                                 ConvKernel kernel = ConvKernel::kBySize);
  // codes of the first codes.size() stages -> the summed latent [B, D, T].
  at::Tensor Decode(const std::vector<at::Tensor>& codes);

 private:
  std::vector<FactorizedVq> stages_;
};
TORCH_MODULE(FactorizedRvq);

}  // namespace codec::nn

#endif  // BACKENDS_NN_FACTORIZED_VQ_H_
