#include "backends/core/audio.h"

#include <cstddef>

namespace codec {

Audio SliceFrames(const Audio& audio, int64_t first, int64_t last) {
  Audio out{audio.sample_rate, audio.channels, {}};
  const int64_t frames = audio.num_frames();
  out.samples.reserve(static_cast<size_t>((last - first) * audio.channels));
  for (int c = 0; c < audio.channels; ++c) {
    out.samples.insert(out.samples.end(), audio.samples.begin() + c * frames + first,
                       audio.samples.begin() + c * frames + last);
  }
  return out;
}

Audio ConcatAudio(const std::vector<Audio>& parts) {
  Audio out;
  int64_t total = 0;
  for (const Audio& part : parts) {
    if (part.channels > 0) out = Audio{part.sample_rate, part.channels, {}};
    total += part.num_frames();
  }
  out.samples.reserve(static_cast<size_t>(total * out.channels));
  for (int c = 0; c < out.channels; ++c) {
    for (const Audio& part : parts) {
      const int64_t frames = part.num_frames();
      out.samples.insert(out.samples.end(), part.samples.begin() + c * frames,
                         part.samples.begin() + (c + 1) * frames);
    }
  }
  return out;
}

}  // namespace codec
