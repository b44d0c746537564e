#ifndef BACKENDS_SNAC_SNAC_MODEL_H_
#define BACKENDS_SNAC_SNAC_MODEL_H_

#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codes.h"
#include "backends/io/checkpoint.h"
#include "backends/nn/factorized_vq.h"
#include "backends/snac/snac_config.h"
#include "backends/snac/snac_layers.h"
#include "backends/streaming/network_streams.h"

namespace codec::snac {

// The SNAC network: encoder, multi-scale factorised residual VQ and decoder,
// with parameters named as in upstream's state_dict. Immutable once loaded;
// Encode and Decode may run concurrently.
class SnacModel : public torch::nn::Module {
 public:
  explicit SnacModel(SnacConfig config);

  const SnacConfig& config() const { return config_; }

  // audio: float [1, T], T > 0 -> one level per VQ stride, coarsest first.
  // The input is right-padded to config().pad_multiple() as upstream does.
  // Every level, always: `n_q` is their count (SnacBackend refuses others).
  Codes EncodeCodes(const at::Tensor& audio, int n_q) const;
  // Inverse of Encode for validated codes; [1, T'] trimmed to
  // codes.num_samples when set.
  at::Tensor DecodeCodes(const Codes& codes, nn::NoiseSource noise) const;

  // Streams: the encoder's and decoder's layers, the quantiser on whole
  // groups of lcm(vq_strides) frames; the input is padded as Encode pads it.
  // `n_q` must be the level count.
  nn::EncodeStreamParts EncodeStreamParts(int n_q) const;
  nn::DecodeStreamParts DecodeStreamParts() const;

 private:
  // latent [B, D, F] <-> one level per VQ stride, int64 [B, 1, F / stride]
  // (the layout nn::CodesBatchFromLevels and LevelBatchToDevice convert).
  std::vector<at::Tensor> Quantize(const at::Tensor& latent) const;
  at::Tensor Dequantize(const std::vector<at::Tensor>& levels) const;

  SnacConfig config_;
  Encoder encoder_{nullptr};
  nn::FactorizedRvq quantizer_{nullptr};
  nn::SnakeDecoder decoder_{nullptr};
};

// config.Describe() with the stream latencies of its layers.
CodecDescription DescribeSnac(const SnacConfig& config);

// Finest frames per group of codes: lcm(vq_strides).
int64_t FramesPerGroup(const SnacConfig& config);

// Builds the model for `config` with the weights of `checkpoint` (upstream
// layout; parametrized weight norm folded here).
absl::StatusOr<std::shared_ptr<SnacModel>> BuildSnacModel(const SnacConfig& config,
                                                          io::Checkpoint checkpoint);

}  // namespace codec::snac

#endif  // BACKENDS_SNAC_SNAC_MODEL_H_
