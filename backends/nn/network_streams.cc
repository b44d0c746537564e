#include "backends/nn/network_streams.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "backends/core/codec_backend.h"
#include "backends/core/status_macros.h"
#include "backends/nn/interrupt.h"
#include "backends/nn/tensor_convert.h"

namespace codec::nn {
namespace {

// Codes with the model's levels and no frames.
Codes EmptyCodes(const CodecDescription& description) {
  Codes codes;
  for (int codebooks : description.codebooks_per_level) {
    codes.levels.push_back(CodeLevel{codebooks, 0, {}});
  }
  return codes;
}

class NetworkEncodeStream final : public EncodeStream {
 public:
  explicit NetworkEncodeStream(EncodeStreamParts parts) : parts_(std::move(parts)) {}

  absl::StatusOr<Codes> Push(const Audio& audio) override {
    RETURN_IF_ERROR(ValidateAudioChunk(audio, parts_.description));
    if (audio.samples.empty()) return EmptyCodes(parts_.description);
    samples_ += audio.num_frames();
    return RunInterruptible(parts_.stop, [&] {
      c10::InferenceMode inference;
      // The layers keep parts of their input: give them their own copy.
      return Quantize(parts_.encoder->Push(AudioView(audio).unsqueeze(0).clone()));
    });
  }

  absl::StatusOr<Codes> Finish() override {
    if (samples_ == 0) return absl::InvalidArgumentError("the stream carried no audio");
    absl::StatusOr<Codes> codes = RunInterruptible(parts_.stop, [&]() -> absl::StatusOr<Codes> {
      c10::InferenceMode inference;
      const int64_t multiple = parts_.pad_multiple;
      const int64_t padding = (samples_ + multiple - 1) / multiple * multiple - samples_;
      at::Tensor latent;
      if (padding > 0) {
        latent = parts_.encoder->Push(
            at::zeros({1, parts_.description.channels, padding}, at::kFloat));
      }
      latent = CatTime(latent, parts_.encoder->Finish());
      Codes out = Quantize(latent);
      if (TimeLength(pending_) != 0) {
        return absl::InternalError("the encoder ended inside a group of frames");
      }
      return out;
    });
    if (codes.ok()) codes->num_samples = samples_;
    return codes;
  }

 private:
  Codes Quantize(const at::Tensor& latent) {
    pending_ = CatTime(pending_, latent);
    const int64_t ready = TimeLength(pending_) / parts_.group_frames * parts_.group_frames;
    if (ready == 0) return EmptyCodes(parts_.description);
    Codes codes = parts_.quantize(pending_.narrow(-1, 0, ready));
    pending_ = pending_.narrow(-1, ready, TimeLength(pending_) - ready);
    return codes;
  }

  EncodeStreamParts parts_;
  int64_t samples_ = 0;
  at::Tensor pending_;  // Latent frames short of a whole group.
};

class NetworkDecodeStream final : public DecodeStream {
 public:
  explicit NetworkDecodeStream(DecodeStreamParts parts)
      : parts_(std::move(parts)), decoder_(parts_.open_decoder(&parts_.noise)) {}

  absl::StatusOr<Audio> Push(const Codes& codes) override {
    RETURN_IF_ERROR(ValidateCodesChunk(codes, parts_.description, codebooks_));
    frames_ += codes.levels[0].frames * parts_.description.level_strides[0];
    return RunInterruptible(parts_.stop, [&] {
      c10::InferenceMode inference;
      return Output(decoder_->Push(parts_.dequantize(codes)));
    });
  }

  absl::StatusOr<Audio> Finish() override {
    if (frames_ == 0) return absl::InvalidArgumentError("the stream carried no codes");
    if (frames_ % parts_.frame_multiple != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the stream ends after ", frames_, " frames; this model decodes multiples of ",
                       parts_.frame_multiple, " (whole attention windows, as encoded audio has)"));
    }
    return RunInterruptible(parts_.stop, [&] {
      c10::InferenceMode inference;
      return Output(decoder_->Finish());
    });
  }

 private:
  Audio Output(const at::Tensor& samples) {
    at::Tensor out = TimeLength(samples) > 0
                         ? samples.squeeze(0)
                         : at::zeros({parts_.description.channels, 0}, at::kFloat);
    if (parts_.num_samples > 0) {
      const int64_t keep = std::clamp<int64_t>(parts_.num_samples - emitted_, 0, out.size(-1));
      out = out.narrow(-1, 0, keep);
    }
    emitted_ += out.size(-1);
    return AudioFromTensor(out.contiguous(), parts_.description.sample_rate);
  }

  DecodeStreamParts parts_;
  StreamLayerPtr decoder_;  // Draws from parts_.noise: declared after it.
  std::vector<int> codebooks_;
  int64_t frames_ = 0;
  int64_t emitted_ = 0;
};

}  // namespace

std::unique_ptr<EncodeStream> OpenNetworkEncodeStream(EncodeStreamParts parts) {
  return std::make_unique<NetworkEncodeStream>(std::move(parts));
}

std::unique_ptr<DecodeStream> OpenNetworkDecodeStream(DecodeStreamParts parts) {
  return std::make_unique<NetworkDecodeStream>(std::move(parts));
}

absl::Status ValidateCodesChunk(const Codes& codes, const CodecDescription& description,
                                std::vector<int>& codebooks) {
  RETURN_IF_ERROR(codes.Validate(description));
  for (size_t l = 0; l < codes.levels.size(); ++l) {
    if (codebooks.size() == l) codebooks.push_back(codes.levels[l].num_codebooks);
    if (codes.levels[l].num_codebooks != codebooks[l]) {
      return absl::InvalidArgumentError(
          absl::StrCat("codes level ", l, " changes from ", codebooks[l], " to ",
                       codes.levels[l].num_codebooks, " codebooks within the stream"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAudioChunk(const Audio& audio, const CodecDescription& description) {
  if (audio.samples.empty() && audio.sample_rate == description.sample_rate &&
      audio.channels == description.channels) {
    return absl::OkStatus();
  }
  return ValidateAudioInput(audio, description);
}

}  // namespace codec::nn
