#include "backends/mimi/mimi_backend.h"

#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"

namespace codec::mimi {

MimiBackend::MimiBackend(std::string id, MimiConfig config, std::string weights_path,
                         at::Device device)
    : CheckpointBackend(std::move(id), DescribeMimi(config), std::move(weights_path), device,
                        [config](io::Checkpoint checkpoint) {
                          return BuildMimiModel(config, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<int> MimiBackend::QuantizersFor(const EncodeOptions& options) const {
  if (options.bandwidth_kbps && options.n_q) {
    return absl::InvalidArgumentError("give a bandwidth or a number of quantisers, not both");
  }
  int n_q = config_.default_n_q;
  if (options.bandwidth_kbps) {
    const double levels = *options.bandwidth_kbps / config_.level_kbps();
    if (!(std::abs(levels - std::round(levels)) < 1e-6)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bandwidth ", *options.bandwidth_kbps, " kbps is not a whole number of '",
                       id(), "' levels of ", config_.level_kbps(), " kbps each"));
    }
    n_q = static_cast<int>(std::lround(levels));
  } else if (options.n_q) {
    n_q = *options.n_q;
  }
  return QuantizerCountInRange(n_q, config_.quantizer_n_q);
}

}  // namespace codec::mimi
