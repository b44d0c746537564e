#ifndef BENCH_TIMING_H_
#define BENCH_TIMING_H_

#include <algorithm>
#include <chrono>
#include <vector>

namespace codec::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The value below which a share `q` in [0, 1] of `values` lies (nearest
// rank: q = 0.5 of {a, b, c} is b). `values` must not be empty.
inline double Percentile(std::vector<double> values, double q) {
  const size_t rank = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + rank, values.end());
  return values[rank];
}

}  // namespace codec::bench

#endif  // BENCH_TIMING_H_
