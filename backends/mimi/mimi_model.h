#ifndef BACKENDS_MIMI_MIMI_MODEL_H_
#define BACKENDS_MIMI_MIMI_MODEL_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"
#include "backends/core/codes.h"
#include "backends/encodec/seanet.h"
#include "backends/io/checkpoint.h"
#include "backends/mimi/mimi_config.h"
#include "backends/mimi/mimi_transformer.h"
#include "backends/nn/euclidean_rvq.h"
#include "backends/streaming/network_streams.h"

namespace codec::mimi {

// The learnt causal downsample to the code frame rate: a conv of kernel
// 2 x stride, no bias, left-padded with copies of the first step. Weight
// under "conv.conv.conv.weight".
class DownsampleImpl : public torch::nn::Module, public nn::Streamable {
 public:
  DownsampleImpl(int64_t channels, int64_t stride);
  // [B, C, T] -> [B, C, T / stride]. REQUIRES: T % stride == 0.
  at::Tensor forward(const at::Tensor& x) const;
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override;

 private:
  int64_t stride_;
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(Downsample);

// The learnt causal upsample back to the SEANet frame rate: a depthwise
// transposed conv of kernel 2 x stride, no bias, its last kernel - stride
// samples dropped. Weight under "convtr.convtr.convtr.weight".
class UpsampleImpl : public torch::nn::Module, public nn::Streamable {
 public:
  UpsampleImpl(int64_t channels, int64_t stride);
  // [B, C, F] -> [B, C, F * stride].
  at::Tensor forward(const at::Tensor& x) const;
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override;
  // The output of frames x, [B, C, F], after the frame `previous`, [B, C, 1]:
  // output s n + j is x[n] w[j] + x[n - 1] w[j + s], as the transposed
  // conv sums them, for offline and streams alike.
  at::Tensor Frames(const at::Tensor& x, const at::Tensor& previous) const;

 private:
  int64_t stride_;
  torch::nn::ConvTranspose1d convtr_{nullptr};
};
TORCH_MODULE(Upsample);

// One half of the split quantiser: a 1x1 projection in, a residual VQ, a
// 1x1 projection out ("input_proj", "vq", "output_proj").
class ProjectedRvqImpl : public torch::nn::Module {
 public:
  ProjectedRvqImpl(const MimiConfig& config, int64_t levels);
  int64_t levels() const { return rvq_->num_quantizers(); }
  // latent [B, D, F] -> codes int64 [n_q, B, F].
  at::Tensor Encode(const at::Tensor& latent, int64_t n_q) const;
  // codes [n_q, B, F] -> latent [B, D, F].
  at::Tensor Decode(const at::Tensor& codes) const;

 private:
  torch::nn::Conv1d input_proj_{nullptr}, output_proj_{nullptr};
  nn::EuclideanRvq rvq_{nullptr};
};
TORCH_MODULE(ProjectedRvq);

// The Mimi network (kyutai-labs/moshi's MimiModel): causal SEANet encoder,
// transformer, downsample, split RVQ (one semantic level, then acoustic
// levels quantising the same latent), and the mirror image to decode.
// Parameters are named as in the published tokenizer checkpoint, but for
// the codebooks, which load through MimiStateDict.
//
// Immutable once loaded: Encode and Decode are const and safe to call from
// many threads at once.
class MimiModel : public torch::nn::Module {
 public:
  explicit MimiModel(MimiConfig config);

  const MimiConfig& config() const { return config_; }

  // audio [channels, T], T > 0, zero-padded to whole frames -> the latent
  // at the code frame rate, [dimension, ceil(T / hop)].
  at::Tensor EncodeLatent(const at::Tensor& audio) const;
  // audio [channels, T] -> codes int64 [n_q, ceil(T / hop)].
  at::Tensor Encode(const at::Tensor& audio, int64_t n_q) const;
  // codes int64 [n_q, F], validated for this model -> [channels, F * hop].
  at::Tensor Decode(const at::Tensor& codes) const;
  // The same as Codes, with codes.num_samples = T.
  Codes EncodeCodes(const at::Tensor& audio, int n_q) const;
  // Decode of validated codes, cut to codes.num_samples when it is set.
  // Mimi's decoder adds no noise.
  at::Tensor DecodeCodes(const Codes& codes, nn::NoiseSource noise) const;

  // Streams: every layer is causal, so a frame's codes and audio come out
  // with the frame itself.
  nn::EncodeStreamParts EncodeStreamParts(int n_q) const;
  nn::DecodeStreamParts DecodeStreamParts() const;

  // latent [B, D, F] <-> its one level of codes, int64 [B, n_q, F] (the
  // layout nn::CodesBatchFromLevels and LevelBatchToDevice convert).
  std::vector<at::Tensor> Quantize(const at::Tensor& latent, int n_q) const;
  at::Tensor Dequantize(const std::vector<at::Tensor>& levels) const;

 private:
  MimiConfig config_;
  encodec::SeanetEncoder encoder_{nullptr};
  ProjectedTransformer encoder_transformer_{nullptr};
  Downsample downsample_{nullptr};
  ProjectedRvq semantic_{nullptr};
  ProjectedRvq acoustic_{nullptr};
  Upsample upsample_{nullptr};
  ProjectedTransformer decoder_transformer_{nullptr};
  encodec::SeanetDecoder decoder_{nullptr};
};

// The published checkpoint's tensors in the module's terms: each codebook's
// centroids (embedding_sum / max(cluster_usage, 1e-5)) under the names
// nn::EuclideanCodebook keeps. Other tensors pass unchanged.
absl::StatusOr<io::StateDict> MimiStateDict(const io::StateDict& published);

// config.Describe()-like facts of the model: 1 level of n_q codebooks at
// the code frame rate.
CodecDescription DescribeMimi(const MimiConfig& config);

// Builds the model for `config` with weights from `checkpoint` (published
// tokenizer layout). Mismatched tensors are INVALID_ARGUMENT naming them.
absl::StatusOr<std::shared_ptr<MimiModel>> BuildMimiModel(const MimiConfig& config,
                                                          io::Checkpoint checkpoint);

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_MIMI_MODEL_H_
