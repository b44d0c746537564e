#ifndef BACKENDS_IO_WAV_H_
#define BACKENDS_IO_WAV_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/audio.h"

namespace codec::io {

// Reads any file libsndfile reads (WAV with 16/24/32-bit PCM or 32-bit
// float, FLAC, ...) at its own rate and channel count, as float samples
// (integer PCM normalised to [-1, 1)). The file is read whole by
// ReadFileBytes (NOT_FOUND when missing, regular files only), then parsed
// by ParseAudioFile.
absl::StatusOr<Audio> ReadWav(const std::string& path);

// Parses an audio file held in memory: bytes that are not audio or hold no
// frames are INVALID_ARGUMENT with libsndfile's reason; a read error is
// DATA_LOSS; `name` names the file in errors. libsndfile reads the frames
// present in a WAV whose data chunk is cut short.
absl::StatusOr<Audio> ParseAudioFile(const std::string& bytes, const std::string& name);

// Writes `audio` as 32-bit float WAV. An inconsistent `audio` is
// INVALID_ARGUMENT; failing to write carries the errno-derived code.
// Errors name the path.
absl::Status WriteWavFloat32(const std::string& path, const Audio& audio);

}  // namespace codec::io

#endif  // BACKENDS_IO_WAV_H_
