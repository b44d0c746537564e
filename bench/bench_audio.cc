#include "bench/bench_audio.h"

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/audio_convert.h"
#include "backends/io/wav.h"

namespace codec::bench {

absl::StatusOr<Audio> BenchAudio(const std::string& path, const CodecDescription& description,
                                 double seconds) {
  ASSIGN_OR_RETURN(Audio wav, io::ReadWav(path));
  std::string report;
  ASSIGN_OR_RETURN(Audio audio,
                   io::ConvertAudio(wav, description.sample_rate, description.channels, &report));
  const int64_t frames = static_cast<int64_t>(seconds * audio.sample_rate);
  if (audio.num_frames() < frames) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is shorter than ", seconds, " s"));
  }
  Audio cut{.sample_rate = audio.sample_rate, .channels = audio.channels};
  for (int c = 0; c < audio.channels; ++c) {
    const auto channel = audio.samples.begin() + c * audio.num_frames();
    cut.samples.insert(cut.samples.end(), channel, channel + frames);
  }
  return cut;
}

}  // namespace codec::bench
