#ifndef SERVER_PCM_FORMAT_H_
#define SERVER_PCM_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "codec/v1/codec.pb.h"

namespace codec::server {

// Bytes per sample of `format`, or INVALID_ARGUMENT for an unspecified one.
absl::StatusOr<int> BytesPerSample(v1::SampleFormat format);

// Interleaved little-endian PCM -> planar float Audio. The byte count must
// be whole frames of `channels`.
absl::StatusOr<Audio> AudioFromPcm(const std::string& pcm, v1::SampleFormat format, int sample_rate,
                                   int channels);

// Planar float Audio -> interleaved PCM frames [first, last) (s16le clips).
std::string PcmFromAudio(const Audio& audio, v1::SampleFormat format, int64_t first, int64_t last);

}  // namespace codec::server

#endif  // SERVER_PCM_FORMAT_H_
