#ifndef BACKENDS_ENCODEC_ENCODEC_MODEL_H_
#define BACKENDS_ENCODEC_ENCODEC_MODEL_H_

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"
#include "backends/core/codes.h"
#include "backends/encodec/encodec_config.h"
#include "backends/encodec/seanet.h"
#include "backends/io/checkpoint.h"
#include "backends/nn/euclidean_rvq.h"
#include "backends/streaming/network_streams.h"

namespace codec::encodec {

// The EnCodec network: SEANet encoder, residual VQ and SEANet decoder, plus
// the segmenting (1 s windows, RMS scales, overlap-add) of 48 kHz models.
// Parameters are named as in upstream's EncodecModel state_dict.
//
// Immutable once loaded: Encode and Decode are const and safe to call from
// many threads at once.
class EncodecModel : public torch::nn::Module {
 public:
  explicit EncodecModel(EncodecConfig config);

  const EncodecConfig& config() const { return config_; }

  // audio: float [channels, T], T > 0 -> codes from the first n_q stages,
  // with one scale per segment for normalising models.
  Codes EncodeCodes(const at::Tensor& audio, int n_q) const;
  // Inverse of Encode; `codes` must already be validated for this model.
  // Returns [channels, T'] trimmed to codes.num_samples when it is set.
  // EnCodec's decoder adds no noise.
  absl::StatusOr<at::Tensor> DecodeCodes(const Codes& codes, nn::NoiseSource noise) const;

  // One segment (the whole input when unsegmented): audio [channels, T] ->
  // codes int64 [n_q, ceil(T / hop)] and, for normalising models, its scale.
  std::pair<at::Tensor, std::optional<float>> EncodeSegment(const at::Tensor& audio,
                                                            int n_q) const;
  // codes [n_q, F] -> audio [channels, F * hop], times `scale` when given.
  at::Tensor DecodeSegment(const at::Tensor& codes, std::optional<float> scale) const;
  // The lengths of the segments Encode cuts `num_samples` samples into.
  std::vector<int64_t> SegmentLengthsFor(int64_t num_samples) const;

  // Unsegmented, unnormalised models run as streams of layers, quantised
  // frame by frame.
  nn::EncodeStreamParts EncodeStreamParts(int n_q) const;
  nn::DecodeStreamParts DecodeStreamParts() const;

 private:
  // latent [B, D, F] <-> its one level of codes, int64 [B, n_q, F] (the
  // layout nn::CodesBatchFromLevels and LevelBatchToDevice convert).
  std::vector<at::Tensor> Quantize(const at::Tensor& latent, int n_q) const;
  at::Tensor Dequantize(const std::vector<at::Tensor>& levels) const;
  // Lengths in samples of the segments that encoded `codes`.
  absl::StatusOr<std::vector<int64_t>> SegmentLengths(const Codes& codes) const;

  EncodecConfig config_;
  SeanetEncoder encoder_{nullptr};
  SeanetDecoder decoder_{nullptr};
  nn::EuclideanRvq quantizer_{nullptr};
};

// Upstream's triangular overlap-add weight of a segment of `length`
// samples, on `device`.
at::Tensor OverlapWeight(int64_t length, at::Device device);

// config.Describe() with the stream latencies of its layers.
CodecDescription DescribeEncodec(const EncodecConfig& config);

// Builds the model for `config` with weights from `checkpoint` (upstream
// or Hugging Face key layout, weight norm folded here). Mismatched tensors
// are INVALID_ARGUMENT naming them.
absl::StatusOr<std::shared_ptr<EncodecModel>> BuildEncodecModel(const EncodecConfig& config,
                                                                io::Checkpoint checkpoint);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_ENCODEC_MODEL_H_
