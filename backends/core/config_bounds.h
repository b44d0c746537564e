#ifndef BACKENDS_CORE_CONFIG_BOUNDS_H_
#define BACKENDS_CORE_CONFIG_BOUNDS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace codec::config_bounds {

// The bounds of the families' config fields: far beyond the published
// models, and small enough that no arithmetic on a config overflows. A
// model within them can still be larger than memory: Load reports that.
inline constexpr int64_t kMaxChannels = 1 << 16;
inline constexpr int64_t kMaxRatios = 8;  // Resampling stages.
inline constexpr int64_t kMaxRatio = 64;
inline constexpr int64_t kMaxHop = 1 << 16;
inline constexpr int64_t kMaxCodebooks = 1024;
inline constexpr int64_t kMaxCodebookSize = 1 << 20;
inline constexpr int64_t kMaxSampleRate = 1 << 20;

// The one range check of config fields: OK when least <= value <= most,
// else INVALID_ARGUMENT "<family> config: <field> is <value>; it must be
// <least> to <most>".
inline absl::Status CheckFieldRange(absl::string_view family, absl::string_view field,
                                    int64_t value, int64_t least, int64_t most) {
  if (value >= least && value <= most) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(family, " config: ", field, " is ", value,
                                                 "; it must be ", least, " to ", most));
}

// The product of `ratios`, saturated just past kMaxHop so that it cannot
// overflow (negative ratios count as 0); check it against kMaxHop.
inline int64_t SaturatedProduct(const std::vector<int>& ratios) {
  int64_t product = 1;
  for (int ratio : ratios) product = std::min<int64_t>(product * std::max(ratio, 0), kMaxHop + 1);
  return product;
}

}  // namespace codec::config_bounds

#endif  // BACKENDS_CORE_CONFIG_BOUNDS_H_
