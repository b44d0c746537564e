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
inline constexpr int64_t kMaxKernel = 1 << 10;
inline constexpr int64_t kMaxLayers = 256;
inline constexpr int64_t kMaxContext = 1 << 20;  // Attention steps or windows.

// The one range check of config fields (and the server's flags): OK when
// least <= value <= most (a NaN is never), else INVALID_ARGUMENT
// "<source>: <field> is <value>; it must be <least> to <most>".
template <typename T>
absl::Status CheckFieldRange(absl::string_view source, absl::string_view field, T value, T least,
                             T most) {
  if (value >= least && value <= most) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": ", field, " is ", value, "; it must be ", least, " to ", most));
}

// CheckFieldRange for the fields of one source ("DAC config", the server's
// flags): a family's Validate holds one.
class FieldBounds {
 public:
  explicit constexpr FieldBounds(absl::string_view source) : source_(source) {}

  // 1 <= value <= most: a size, a count or a rate.
  absl::Status Positive(absl::string_view field, int64_t value, int64_t most) const {
    return CheckFieldRange<int64_t>(source_, field, value, 1, most);
  }
  template <typename T>
  absl::Status Range(absl::string_view field, T value, T least, T most) const {
    return CheckFieldRange<T>(source_, field, value, least, most);
  }
  // The number of entries of a list field and each entry: 1 <= size <=
  // most_entries, 1 <= entry <= most.
  absl::Status PositiveList(absl::string_view field, const std::vector<int>& values,
                            int64_t most_entries, int64_t most) const {
    const absl::Status size = Positive(absl::StrCat("the number of ", field),
                                       static_cast<int64_t>(values.size()), most_entries);
    if (!size.ok()) return size;
    for (int value : values) {
      if (absl::Status entry = Positive(field, value, most); !entry.ok()) return entry;
    }
    return absl::OkStatus();
  }

 private:
  absl::string_view source_;
};

// The product of `ratios`, saturated just past kMaxHop so that it cannot
// overflow (negative ratios count as 0); check it against kMaxHop.
inline int64_t SaturatedProduct(const std::vector<int>& ratios) {
  int64_t product = 1;
  for (int ratio : ratios) product = std::min<int64_t>(product * std::max(ratio, 0), kMaxHop + 1);
  return product;
}

// width * 2^doublings (a layer's channels after as many doublings),
// saturated just past kMaxChannels (a negative width counts as 0); check it
// against kMaxChannels.
inline int64_t SaturatedWidth(int width, size_t doublings) {
  const int shift = static_cast<int>(std::min<size_t>(doublings, 32));
  return std::min<int64_t>(int64_t{std::max(width, 0)} << shift, kMaxChannels + 1);
}

// base^exponent, saturated just past kMaxHop as SaturatedProduct is (a
// negative exponent counts as 0); check it against kMaxHop.
inline int64_t SaturatedPower(int base, int exponent) {
  return SaturatedProduct(std::vector<int>(std::max(exponent, 0), base));
}

}  // namespace codec::config_bounds

#endif  // BACKENDS_CORE_CONFIG_BOUNDS_H_
