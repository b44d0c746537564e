#include "backends/core/codec_options.h"

#include "absl/strings/str_cat.h"

namespace codec {

absl::StatusOr<DecodeOptions> ParseDecodeOptions(const std::string& noise,
                                                 std::optional<uint64_t> seed) {
  DecodeOptions options;
  if (noise == "off") {
    options.noise = NoiseMode::kOff;
  } else if (noise == "on") {
    options.noise = seed ? NoiseMode::kSeeded : NoiseMode::kRandom;
    options.seed = seed.value_or(0);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--noise must be on or off, got '", noise, "'"));
  }
  return options;
}

}  // namespace codec
