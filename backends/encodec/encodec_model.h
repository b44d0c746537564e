#ifndef BACKENDS_ENCODEC_ENCODEC_MODEL_H_
#define BACKENDS_ENCODEC_ENCODEC_MODEL_H_

#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backends/core/codes.h"
#include "backends/encodec/encodec_config.h"
#include "backends/encodec/seanet.h"
#include "backends/io/checkpoint.h"
#include "backends/nn/euclidean_rvq.h"

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
  Codes Encode(const at::Tensor& audio, int n_q) const;
  // Inverse of Encode; `codes` must already be validated for this model.
  // Returns [channels, T'] trimmed to codes.num_samples when it is set.
  absl::StatusOr<at::Tensor> Decode(const Codes& codes) const;

 private:
  // Lengths in samples of the segments that encoded `codes`.
  absl::StatusOr<std::vector<int64_t>> SegmentLengths(const Codes& codes) const;
  at::Tensor DecodeSegment(const at::Tensor& codes, std::optional<float> scale) const;

  EncodecConfig config_;
  SeanetEncoder encoder_{nullptr};
  SeanetDecoder decoder_{nullptr};
  nn::EuclideanRvq quantizer_{nullptr};
};

// Builds the model for `config` with weights from `checkpoint` (upstream
// or Hugging Face key layout, weight norm folded here). Mismatched tensors
// are INVALID_ARGUMENT naming them.
absl::StatusOr<std::shared_ptr<const EncodecModel>> BuildEncodecModel(const EncodecConfig& config,
                                                                      io::Checkpoint checkpoint);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_ENCODEC_MODEL_H_
