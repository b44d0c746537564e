#include "backends/io/audio_convert.h"

#include <soxr.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace codec::io {
namespace {

absl::StatusOr<Audio> MixChannels(const Audio& in, int target_channels) {
  if (in.channels == target_channels) return in;
  const int64_t frames = in.num_frames();
  Audio out{in.sample_rate, target_channels, {}};
  out.samples.resize(static_cast<size_t>(frames) * target_channels);
  if (target_channels == 1) {
    for (int64_t t = 0; t < frames; ++t) {
      float sum = 0;
      for (int c = 0; c < in.channels; ++c) sum += in.samples[c * frames + t];
      out.samples[t] = sum / in.channels;
    }
  } else if (in.channels == 1) {
    for (int c = 0; c < target_channels; ++c) {
      std::copy(in.samples.begin(), in.samples.end(), out.samples.begin() + c * frames);
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("cannot mix ", in.channels, " channels into ",
                                                   target_channels));
  }
  return out;
}

absl::StatusOr<Audio> Resample(const Audio& in, int target_rate) {
  if (in.sample_rate == target_rate) return in;
  const int64_t in_frames = in.num_frames();
  const int64_t out_frames = static_cast<int64_t>(
      std::llround(static_cast<double>(in_frames) * target_rate / in.sample_rate));
  Audio out{target_rate, in.channels, std::vector<float>(out_frames * in.channels)};
  const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  std::vector<const float*> inputs(in.channels);
  std::vector<float*> outputs(in.channels);
  for (int c = 0; c < in.channels; ++c) {
    inputs[c] = in.samples.data() + c * in_frames;
    outputs[c] = out.samples.data() + c * out_frames;
  }
  size_t produced = 0;
  const soxr_error_t error =
      soxr_oneshot(in.sample_rate, target_rate, in.channels, inputs.data(), in_frames, nullptr,
                   outputs.data(), out_frames, &produced, &io_spec, &quality, nullptr);
  if (error) return absl::InternalError(absl::StrCat("libsoxr: ", error));
  if (static_cast<int64_t>(produced) != out_frames) {
    return absl::InternalError(absl::StrCat("libsoxr produced ", produced, " of ", out_frames,
                                            " frames"));
  }
  return out;
}

}  // namespace

absl::StatusOr<Audio> ConvertAudio(const Audio& in, int target_rate, int target_channels,
                                   std::string* report) {
  std::vector<std::string> changes;
  if (in.sample_rate != target_rate) {
    changes.push_back(absl::StrCat("resampled ", in.sample_rate, " Hz -> ", target_rate, " Hz"));
  }
  if (in.channels != target_channels) {
    changes.push_back(
        absl::StrCat("mixed ", in.channels, " -> ", target_channels, " channel(s)"));
  }
  // Mix first when reducing channels (less to resample), last otherwise.
  absl::StatusOr<Audio> out = in.channels > target_channels ? MixChannels(in, target_channels)
                                                            : Resample(in, target_rate);
  if (!out.ok()) return out;
  out = in.channels > target_channels ? Resample(*out, target_rate)
                                      : MixChannels(*out, target_channels);
  if (!out.ok()) return out;
  *report = absl::StrJoin(changes, ", ");
  return out;
}

}  // namespace codec::io
