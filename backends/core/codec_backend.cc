#include "backends/core/codec_backend.h"

#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"

namespace codec {

int CodecBackend::num_codebooks() const {
  const std::vector<int>& per_level = description().codebooks_per_level;
  return std::accumulate(per_level.begin(), per_level.end(), 0);
}

namespace {

// Segment scales are side information the flat token layout cannot carry.
absl::Status CheckFlatApiApplies(const CodecDescription& description) {
  if (description.segment_length > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the flat token API cannot carry segment scales; this segmented ",
                     description.family, " model needs Encode()/Decode() with Codes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<uint32_t>> CodecBackend::encode_pcm(absl::Span<const float> samples,
                                                               int sample_rate) const {
  const CodecDescription& desc = description();
  RETURN_IF_ERROR(CheckFlatApiApplies(desc));
  Audio audio;
  audio.sample_rate = sample_rate;
  audio.channels = desc.channels;
  if (samples.size() % desc.channels != 0) {
    return absl::InvalidArgumentError(absl::StrCat(samples.size(),
                                                   " interleaved samples are not whole frames of ",
                                                   desc.channels, " channels"));
  }
  const int64_t frames = static_cast<int64_t>(samples.size()) / desc.channels;
  audio.samples.resize(samples.size());
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < desc.channels; ++c) {
      audio.samples[c * frames + t] = samples[t * desc.channels + c];
    }
  }
  ASSIGN_OR_RETURN(Codes codes, Encode(audio, EncodeOptions{}));
  return codes.Flatten();
}

absl::StatusOr<std::vector<float>> CodecBackend::decode_tokens(absl::Span<const uint32_t> tokens,
                                                               int num_codebooks) const {
  const CodecDescription& desc = description();
  RETURN_IF_ERROR(CheckFlatApiApplies(desc));
  Codes codes;
  if (desc.codebooks_per_level.size() == 1) {
    ASSIGN_OR_RETURN(codes, CodesFromFlat(tokens, num_codebooks));
  } else if (num_codebooks != this->num_codebooks()) {
    return absl::InvalidArgumentError(
        absl::StrCat("this ", desc.family, " model decodes all ", this->num_codebooks(),
                     " codebooks of its levels, not ", num_codebooks));
  } else {
    ASSIGN_OR_RETURN(codes,
                     CodesFromFlatLevels(tokens, desc.codebooks_per_level, desc.level_strides));
  }
  ASSIGN_OR_RETURN(Audio audio, Decode(codes, DecodeOptions{}));
  const int64_t frames = audio.num_frames();
  std::vector<float> interleaved(audio.samples.size());
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < audio.channels; ++c) {
      interleaved[t * audio.channels + c] = audio.samples[c * frames + t];
    }
  }
  return interleaved;
}

absl::Status ValidateAudioInput(const Audio& audio, const CodecDescription& description) {
  if (audio.sample_rate != description.sample_rate) {
    return absl::InvalidArgumentError(
        absl::StrCat("audio is at ", audio.sample_rate, " Hz but the model runs at ",
                     description.sample_rate, " Hz; resample it first"));
  }
  if (audio.channels != description.channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "audio has ", audio.channels, " channel(s) but the model takes ", description.channels));
  }
  if (audio.samples.empty()) {
    return absl::InvalidArgumentError("audio is empty");
  }
  if (audio.samples.size() % audio.channels != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        audio.samples.size(), " samples are not whole frames of ", audio.channels, " channels"));
  }
  for (size_t i = 0; i < audio.samples.size(); ++i) {
    if (!std::isfinite(audio.samples[i])) {
      return absl::InvalidArgumentError(absl::StrCat("audio sample ", i % audio.num_frames(),
                                                     " of channel ", i / audio.num_frames(),
                                                     " is not finite (", audio.samples[i], ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace codec
