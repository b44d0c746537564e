#ifndef BACKENDS_IO_WAV_H_
#define BACKENDS_IO_WAV_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/audio.h"

namespace codec::io {

// Reads any file libsndfile reads (WAV with 16/24/32-bit PCM or 32-bit
// float, FLAC, ...) as float samples in [-1, 1), planar. A missing file is
// NOT_FOUND; an unreadable or empty one INVALID_ARGUMENT with the reason.
absl::StatusOr<Audio> ReadWav(const std::string& path);

// Writes 32-bit float WAV.
absl::Status WriteWavFloat32(const std::string& path, const Audio& audio);

}  // namespace codec::io

#endif  // BACKENDS_IO_WAV_H_
