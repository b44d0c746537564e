#include "backends/io/wav.h"

#include <sndfile.h>

#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"

namespace codec::io {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

}  // namespace

absl::StatusOr<Audio> ReadWav(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("audio file '", path, "' does not exist"));
  }
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read audio '", path, "': ", sf_strerror(nullptr)));
  }
  if (info.frames <= 0 || info.channels <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("audio file '", path, "' holds no samples"));
  }
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * info.channels);
  const sf_count_t read = sf_readf_float(file.get(), interleaved.data(), info.frames);
  if (read != info.frames) {
    return absl::InvalidArgumentError(absl::StrCat("audio file '", path, "' is truncated: read ",
                                                   read, " of ", info.frames, " frames"));
  }
  Audio audio;
  audio.sample_rate = info.samplerate;
  audio.channels = info.channels;
  audio.samples.resize(interleaved.size());
  for (sf_count_t t = 0; t < info.frames; ++t) {
    for (int c = 0; c < info.channels; ++c) {
      audio.samples[c * info.frames + t] = interleaved[t * info.channels + c];
    }
  }
  return audio;
}

absl::Status WriteWavFloat32(const std::string& path, const Audio& audio) {
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = audio.channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SndfilePtr file(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!file) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write '", path, "': ", sf_strerror(nullptr)));
  }
  const int64_t frames = audio.num_frames();
  std::vector<float> interleaved(audio.samples.size());
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < audio.channels; ++c) {
      interleaved[t * audio.channels + c] = audio.samples[c * frames + t];
    }
  }
  if (sf_writef_float(file.get(), interleaved.data(), frames) != frames) {
    return absl::DataLossError(absl::StrCat("error writing '", path, "'"));
  }
  return absl::OkStatus();
}

}  // namespace codec::io
