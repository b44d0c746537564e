#ifndef BENCH_BENCH_AUDIO_H_
#define BENCH_BENCH_AUDIO_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codec_description.h"

namespace codec::bench {

// The first `seconds` of the recording at `path`, converted to the model's
// rate and channel count: the input every benchmark row codes.
// INVALID_ARGUMENT when the recording is shorter.
absl::StatusOr<Audio> BenchAudio(const std::string& path, const CodecDescription& description,
                                 double seconds);

}  // namespace codec::bench

#endif  // BENCH_BENCH_AUDIO_H_
