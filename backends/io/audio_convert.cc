#include "backends/io/audio_convert.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"

namespace codec::io {
namespace {

// N -> 1 averages, 1 -> N duplicates; the caller rules out other mixes.
Audio MixChannels(Audio in, int target_channels) {
  if (in.channels == target_channels) return in;
  const int64_t frames = in.num_frames();
  Audio out{in.sample_rate, target_channels,
            std::vector<float>(static_cast<size_t>(frames) * target_channels)};
  if (target_channels == 1) {
    for (int64_t t = 0; t < frames; ++t) {
      float sum = 0;
      for (int c = 0; c < in.channels; ++c) sum += in.samples[c * frames + t];
      out.samples[t] = sum / in.channels;
    }
  } else {
    for (int c = 0; c < target_channels; ++c) {
      std::copy(in.samples.begin(), in.samples.end(), out.samples.begin() + c * frames);
    }
  }
  return out;
}

absl::StatusOr<Audio> Resample(Audio in, int target_rate) {
  if (in.sample_rate == target_rate) return in;
  const int64_t in_frames = in.num_frames();
  const int64_t out_frames =
      std::llround(static_cast<double>(in_frames) * target_rate / in.sample_rate);
  Audio out{target_rate, in.channels,
            std::vector<float>(static_cast<size_t>(out_frames) * in.channels)};
  std::vector<const float*> inputs(in.channels);
  std::vector<float*> outputs(in.channels);
  for (int c = 0; c < in.channels; ++c) {
    inputs[c] = in.samples.data() + c * in_frames;
    outputs[c] = out.samples.data() + c * out_frames;
  }
  const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t produced = 0;
  // soxr_oneshot flushes the filter, so it yields the whole output.
  const soxr_error_t error =
      soxr_oneshot(in.sample_rate, target_rate, in.channels, inputs.data(), in_frames, nullptr,
                   outputs.data(), out_frames, &produced, &io_spec, &quality, nullptr);
  if (error) {
    return absl::InternalError(absl::StrCat("libsoxr failed resampling ", in.sample_rate, " Hz -> ",
                                            target_rate, " Hz: ", error));
  }
  if (static_cast<int64_t>(produced) != out_frames) {
    return absl::InternalError(
        absl::StrCat("libsoxr produced ", produced, " of ", out_frames, " frames"));
  }
  return out;
}

}  // namespace

absl::StatusOr<Audio> ConvertAudio(const Audio& in, int target_rate, int target_channels,
                                   std::string* report) {
  report->clear();
  if (in.sample_rate < 1 || in.channels < 1 || in.samples.size() % in.channels != 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid audio: ", in.sample_rate, " Hz, ",
                                                   in.channels, " channel(s), ", in.samples.size(),
                                                   " samples"));
  }
  if (target_rate < 1 || target_channels < 1) {
    return absl::InvalidArgumentError(absl::StrCat("invalid conversion target: ", target_rate,
                                                   " Hz, ", target_channels, " channel(s)"));
  }
  if (in.channels != target_channels && in.channels != 1 && target_channels != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot mix ", in.channels, " channels into ",
                                                   target_channels, "; only N -> 1 and 1 -> N"));
  }
  // Mix first when dropping channels and last when adding them, so that
  // libsoxr processes the fewer channels.
  Audio out;
  if (target_channels < in.channels) {
    ASSIGN_OR_RETURN(out, Resample(MixChannels(in, target_channels), target_rate));
  } else {
    ASSIGN_OR_RETURN(Audio resampled, Resample(in, target_rate));
    out = MixChannels(std::move(resampled), target_channels);
  }
  std::vector<std::string> changes;
  if (in.sample_rate != target_rate) {
    changes.push_back(absl::StrCat("resampled ", in.sample_rate, " Hz -> ", target_rate, " Hz"));
  }
  if (in.channels != target_channels) {
    changes.push_back(absl::StrCat("mixed ", in.channels, " -> ", target_channels, " channel(s)"));
  }
  *report = absl::StrJoin(changes, ", ");
  return out;
}

}  // namespace codec::io
