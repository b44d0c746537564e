#ifndef BACKENDS_IO_AUDIO_CONVERT_H_
#define BACKENDS_IO_AUDIO_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"

namespace codec::io {

// Brings `in` to `target_rate` (libsoxr, high quality) and `target_channels`
// (N -> 1 averages, 1 -> N duplicates; other mixes are INVALID_ARGUMENT).
// Sets *report to a one-line description of what changed, or "" if nothing.
absl::StatusOr<Audio> ConvertAudio(const Audio& in, int target_rate, int target_channels,
                                   std::string* report);

}  // namespace codec::io

#endif  // BACKENDS_IO_AUDIO_CONVERT_H_
