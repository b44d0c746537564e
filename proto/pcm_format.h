#ifndef PROTO_PCM_FORMAT_H_
#define PROTO_PCM_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "codec/v1/codec.pb.h"

namespace codec::v1 {

// Bytes per sample of `format`, or INVALID_ARGUMENT for an unspecified one.
absl::StatusOr<int> BytesPerSample(SampleFormat format);

// Interleaved little-endian PCM -> planar float Audio. The byte count must
// be whole frames of `channels`.
absl::StatusOr<Audio> AudioFromPcm(const std::string& pcm, SampleFormat format, int sample_rate,
                                   int channels);

// Planar float Audio -> interleaved PCM frames [first, last) (s16le clips).
std::string PcmFromAudio(const Audio& audio, SampleFormat format, int64_t first, int64_t last);

}  // namespace codec::v1

#endif  // PROTO_PCM_FORMAT_H_
