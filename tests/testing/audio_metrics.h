#ifndef TESTS_TESTING_AUDIO_METRICS_H_
#define TESTS_TESTING_AUDIO_METRICS_H_

#include "backends/core/audio.h"

namespace codec::testing {

// How far one audio is from another, for tests and benchmarks alike.

// The largest absolute sample difference; infinite if shapes differ.
double MaxAbsDiff(const Audio& actual, const Audio& expected);
// Scale-invariant signal-to-distortion ratio of `actual` against `expected`
// in dB: -inf if shapes differ, +inf if equal.
double SiSdrDb(const Audio& actual, const Audio& expected);

}  // namespace codec::testing

#endif  // TESTS_TESTING_AUDIO_METRICS_H_
