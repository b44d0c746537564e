#ifndef BACKENDS_DAC_DAC_MODEL_H_
#define BACKENDS_DAC_DAC_MODEL_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codes.h"
#include "backends/dac/dac_config.h"
#include "backends/io/checkpoint.h"
#include "backends/nn/factorized_vq.h"
#include "backends/nn/snake_blocks.h"
#include "backends/streaming/network_streams.h"

namespace codec::dac {

// How long inputs are split so that memory stays bounded: windows of
// `chunk_frames` latent frames, each computed with `context_frames` of real
// neighbouring signal on both sides (more than the encoder's and decoder's
// receptive fields), of which only the window's own frames are kept.
// Inputs of at most chunk_frames frames run whole, exactly as upstream.
struct Chunking {
  int64_t chunk_frames = 0;
  int64_t context_frames = 0;

  // 10 s windows with 1 s of context at `config`'s frame rate.
  static Chunking Default(const DacConfig& config);
};

// The DAC network: Snake encoder, factorised residual VQ and Snake decoder,
// with parameters named as in upstream's state_dict. Immutable once loaded;
// Encode and Decode may run concurrently.
class DacModel : public torch::nn::Module {
 public:
  DacModel(DacConfig config, Chunking chunking);

  const DacConfig& config() const { return config_; }

  // audio: float [1, T], T > 0 -> codes of the first n_q quantisers. The
  // input is right-padded to a multiple of the hop, as upstream does.
  Codes EncodeCodes(const at::Tensor& audio, int64_t n_q) const;
  // Validated codes -> [1, T'], T' = frames * hop (minus what the transposed
  // convs trim for odd rates, as upstream), cut to codes.num_samples. DAC's
  // decoder adds no noise.
  at::Tensor DecodeCodes(const Codes& codes, nn::NoiseSource noise) const;

  // Streams: the encoder's and decoder's layers, the quantiser per frame;
  // the input is padded to a multiple of the hop.
  nn::EncodeStreamParts EncodeStreamParts(int n_q) const;
  nn::DecodeStreamParts DecodeStreamParts() const;

 private:
  // latent [B, D, F] <-> its one level of codes, int64 [B, n_q, F] (the
  // layout nn::CodesBatchFromLevels and LevelBatchToDevice convert).
  std::vector<at::Tensor> Quantize(const at::Tensor& latent, int64_t n_q) const;
  at::Tensor Dequantize(const std::vector<at::Tensor>& levels) const;
  at::Tensor EncodeLatent(const at::Tensor& x) const;  // [1, 1, T] -> [1, D, T / hop]
  at::Tensor DecodeLatent(const at::Tensor& z) const;  // [1, D, F] -> [1, 1, ~F * hop]

  DacConfig config_;
  Chunking chunking_;
  torch::nn::Sequential encoder_{nullptr};
  nn::FactorizedRvq quantizer_{nullptr};
  nn::SnakeDecoder decoder_{nullptr};
};

// config.Describe() with the stream latencies of its layers.
CodecDescription DescribeDac(const DacConfig& config);

absl::StatusOr<std::shared_ptr<DacModel>> BuildDacModel(const DacConfig& config,
                                                        const Chunking& chunking,
                                                        io::Checkpoint checkpoint);

}  // namespace codec::dac

#endif  // BACKENDS_DAC_DAC_MODEL_H_
