#include "backends/encodec/encodec_backend.h"

#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/encodec/segment_streams.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"

namespace codec::encodec {

EncodecBackend::EncodecBackend(std::string id, EncodecConfig config, std::string weights_path,
                               at::Device device)
    : CheckpointBackend(std::move(id), DescribeEncodec(config), std::move(weights_path), device,
                        [config](io::Checkpoint checkpoint) {
                          return BuildEncodecModel(config, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<int> EncodecBackend::QuantizersFor(const EncodeOptions& options) const {
  if (options.bandwidth_kbps && options.n_q) {
    return absl::InvalidArgumentError("give a bandwidth or a number of quantisers, not both");
  }
  if (options.bandwidth_kbps) {
    for (double supported : config_.target_bandwidths) {
      if (std::abs(supported - *options.bandwidth_kbps) < 1e-9) {
        return config_.QuantizersForBandwidth(supported);
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("bandwidth ", *options.bandwidth_kbps, " kbps is not supported by '", id(),
                     "'; supported: ", absl::StrJoin(config_.target_bandwidths, ", "), " kbps"));
  }
  return QuantizerCountInRange(options.n_q.value_or(config_.num_quantizers()),
                               config_.num_quantizers());
}

absl::StatusOr<std::unique_ptr<EncodeStream>> EncodecBackend::OpenEncodeStream(
    const EncodeOptions& options) const {
  ASSIGN_OR_RETURN(int n_q, QuantizersFor(options));
  ASSIGN_OR_RETURN(std::shared_ptr<const EncodecModel> network, model());
  if (config_.normalize) {
    return OpenSegmentEncodeStream(std::move(network), description(), n_q, options.stop);
  }
  return CheckpointBackend::OpenEncodeStream(options);
}

absl::StatusOr<std::unique_ptr<DecodeStream>> EncodecBackend::OpenDecodeStream(
    const DecodeOptions& options, int64_t num_samples) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const EncodecModel> network, model());
  if (config_.normalize) {
    // A segment's audio depends on the segment's every frame.
    if (options.lookahead_frames.has_value() &&
        *options.lookahead_frames < description().decode_lookahead_frames) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", id(), "' decodes whole normalised segments and cannot send audio early: ",
          "lookahead_frames ", *options.lookahead_frames, " is below its lookahead of ",
          description().decode_lookahead_frames, " frames"));
    }
    return OpenSegmentDecodeStream(std::move(network), description(), num_samples, options.stop);
  }
  return CheckpointBackend::OpenDecodeStream(options, num_samples);
}

}  // namespace codec::encodec
