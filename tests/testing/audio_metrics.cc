#include "tests/testing/audio_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace codec::testing {

double SiSdrDb(const Audio& actual, const Audio& expected) {
  if (actual.channels != expected.channels || actual.samples.size() != expected.samples.size()) {
    return -std::numeric_limits<double>::infinity();
  }
  // The target is expected scaled to its best fit; the rest is distortion.
  double cross = 0, energy = 0;
  for (size_t i = 0; i < actual.samples.size(); ++i) {
    cross += static_cast<double>(actual.samples[i]) * expected.samples[i];
    energy += static_cast<double>(expected.samples[i]) * expected.samples[i];
  }
  const double scale = energy > 0 ? cross / energy : 0;
  double target = 0, distortion = 0;
  for (size_t i = 0; i < actual.samples.size(); ++i) {
    const double t = scale * expected.samples[i];
    target += t * t;
    distortion += (actual.samples[i] - t) * (actual.samples[i] - t);
  }
  if (distortion == 0) return std::numeric_limits<double>::infinity();
  return 10 * std::log10(target / distortion);
}

double MaxAbsDiff(const Audio& actual, const Audio& expected) {
  if (actual.channels != expected.channels || actual.samples.size() != expected.samples.size()) {
    return std::numeric_limits<double>::infinity();
  }
  double max_diff = 0;
  for (size_t i = 0; i < actual.samples.size(); ++i) {
    max_diff =
        std::max(max_diff, std::abs(static_cast<double>(actual.samples[i]) - expected.samples[i]));
  }
  return max_diff;
}

}  // namespace codec::testing
