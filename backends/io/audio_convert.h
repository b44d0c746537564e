#ifndef BACKENDS_IO_AUDIO_CONVERT_H_
#define BACKENDS_IO_AUDIO_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"

namespace codec::io {

// Brings `in` to `target_rate` (libsoxr, high quality; the output has
// round(frames * target_rate / in.sample_rate) frames) and `target_channels`
// (N -> 1 averages, 1 -> N duplicates). Other channel mixes, an inconsistent
// `in` or non-positive targets are INVALID_ARGUMENT. Sets *report (which must
// not be null) to a one-line description of what changed, such as
// "resampled 44100 Hz -> 24000 Hz, mixed 2 -> 1 channel(s)", or to "" when
// nothing did.
absl::StatusOr<Audio> ConvertAudio(const Audio& in, int target_rate, int target_channels,
                                   std::string* report);

}  // namespace codec::io

#endif  // BACKENDS_IO_AUDIO_CONVERT_H_
