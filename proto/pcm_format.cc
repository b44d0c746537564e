#include "proto/pcm_format.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace codec::v1 {

absl::StatusOr<int> BytesPerSample(SampleFormat format) {
  switch (format) {
    case SAMPLE_FORMAT_F32LE:
      return 4;
    case SAMPLE_FORMAT_S16LE:
      return 2;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("sample format ", v1::SampleFormat_Name(format),
                       " is not supported; use SAMPLE_FORMAT_F32LE or SAMPLE_FORMAT_S16LE"));
  }
}

absl::StatusOr<Audio> AudioFromPcm(const std::string& pcm, SampleFormat format, int sample_rate,
                                   int channels) {
  absl::StatusOr<int> width = BytesPerSample(format);
  if (!width.ok()) return width.status();
  const size_t frame_bytes = static_cast<size_t>(*width) * channels;
  if (pcm.size() % frame_bytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat(pcm.size(),
                                                   " PCM bytes are not whole frames of ", channels,
                                                   " channel(s) x ", *width, " bytes"));
  }
  const int64_t frames = static_cast<int64_t>(pcm.size() / frame_bytes);
  Audio audio{sample_rate, channels, std::vector<float>(pcm.size() / *width)};
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < channels; ++c) {
      const char* p = pcm.data() + (t * channels + c) * *width;
      float value;
      if (*width == 4) {
        std::memcpy(&value, p, 4);
      } else {
        int16_t s;
        std::memcpy(&s, p, 2);
        value = s / 32768.0f;
      }
      audio.samples[c * frames + t] = value;
    }
  }
  return audio;
}

std::string PcmFromAudio(const Audio& audio, SampleFormat format, int64_t first, int64_t last) {
  const int width = format == SAMPLE_FORMAT_S16LE ? 2 : 4;
  const int64_t frames = audio.num_frames();
  std::string pcm((last - first) * audio.channels * width, '\0');
  char* out = pcm.data();
  for (int64_t t = first; t < last; ++t) {
    for (int c = 0; c < audio.channels; ++c, out += width) {
      const float value = audio.samples[c * frames + t];
      if (width == 4) {
        std::memcpy(out, &value, 4);
      } else {
        const int16_t s =
            static_cast<int16_t>(std::lrint(std::clamp(value, -1.0f, 32767.0f / 32768) * 32768));
        std::memcpy(out, &s, 2);
      }
    }
  }
  return pcm;
}

}  // namespace codec::v1
