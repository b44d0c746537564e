// What the server does with an EncodeRequest's PCM, on arbitrary bytes: the
// first byte picks the format and channel count, the rest is the payload.

#include <cstdint>
#include <string>

#include "proto/pcm_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto format = static_cast<codec::v1::SampleFormat>(data[0] % 4);
  const int channels = 1 + (data[0] >> 2) % 3;
  const std::string pcm(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<codec::Audio> audio = codec::v1::AudioFromPcm(pcm, format, 24000, channels);
  if (audio.ok()) (void)codec::v1::PcmFromAudio(*audio, format, 0, audio->num_frames());
  return 0;
}
