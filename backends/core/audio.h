#ifndef BACKENDS_CORE_AUDIO_H_
#define BACKENDS_CORE_AUDIO_H_

#include <cstdint>
#include <vector>

namespace codec {

// Float PCM in [-1, 1], planar: channel c's samples are
// samples[c * num_frames() .. (c + 1) * num_frames()).
struct Audio {
  int sample_rate = 0;
  int channels = 0;
  std::vector<float> samples;

  int64_t num_frames() const {
    return channels > 0 ? static_cast<int64_t>(samples.size()) / channels : 0;
  }
};

// Frames [first, last) of `audio` (0 <= first <= last <= num_frames()).
Audio SliceFrames(const Audio& audio, int64_t first, int64_t last);
// `parts` one after the other (same rate and channels); empty for none.
Audio ConcatAudio(const std::vector<Audio>& parts);

}  // namespace codec

#endif  // BACKENDS_CORE_AUDIO_H_
