#include "backends/nn/network_streams.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/core/codec_backend.h"
#include "backends/core/status_macros.h"
#include "backends/nn/interrupt.h"
#include "backends/nn/stream_batch.h"
#include "backends/nn/tensor_convert.h"

namespace codec::nn {
namespace {

// Stops a batch's shared work when every stream of it says stop, with the
// first one's status; each stream's own work stops on its own check.
StopCheck AllStopped(std::vector<StopCheck> checks) {
  return [checks = std::move(checks)]() -> absl::Status {
    absl::Status first;
    for (const StopCheck& check : checks) {
      if (!check) return absl::OkStatus();
      absl::Status status = check();
      if (status.ok()) return status;
      if (first.ok()) first = std::move(status);
    }
    return first;
  };
}

// What one session of a batch runs through its network's layers.
struct LayerStep {
  StreamLayer* layer;
  at::Tensor input;
  StopCheck stop;
};

// One step of a batch of `n` sessions: prepare(i, result) gives session i's
// LayerStep, or nullopt when it has none (its result then set); the steps'
// layers run as stacked batches (StackedPush), stopping when every session
// says stop; finish(i, output) turns session i's layer output into its result.
template <typename Result, typename Prepare, typename Finish>
std::vector<Result> StepTogether(size_t n, Result initial, Prepare prepare, Finish finish) {
  std::vector<Result> results(n, initial);
  std::vector<size_t> running;
  std::vector<StreamLayer*> layers;
  std::vector<at::Tensor> inputs;
  std::vector<StopCheck> stops;
  for (size_t i = 0; i < n; ++i) {
    std::optional<LayerStep> step = prepare(i, results[i]);
    if (!step) continue;
    running.push_back(i);
    layers.push_back(step->layer);
    inputs.push_back(std::move(step->input));
    stops.push_back(std::move(step->stop));
  }
  if (running.empty()) return results;
  absl::StatusOr<std::vector<at::Tensor>> outputs =
      RunInterruptible(AllStopped(std::move(stops)), [&] {
        c10::InferenceMode inference;
        return StackedPush(layers, inputs);
      });
  for (size_t r = 0; r < running.size(); ++r) {
    results[running[r]] =
        outputs.ok() ? finish(running[r], (*outputs)[r]) : Result(outputs.status());
  }
  return results;
}

// The batch keys' kinds.
constexpr char kNetworkEncode = 0;
constexpr char kNetworkDecode = 0;

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

  absl::StatusOr<Codes> Push(const Audio& audio) override { return PushBatch({this}, {&audio})[0]; }

  BatchKey batch_key() const override { return {&kNetworkEncode, parts_.weights.get()}; }

  std::vector<absl::StatusOr<Codes>> PushBatch(const std::vector<EncodeStream*>& sessions,
                                               const std::vector<const Audio*>& chunks) override {
    auto session = [&](size_t i) {
      return static_cast<NetworkEncodeStream*>(sessions[i]);  // Same batch key.
    };
    return StepTogether<absl::StatusOr<Codes>>(
        sessions.size(), EmptyCodes(parts_.description),
        [&](size_t i, absl::StatusOr<Codes>& result) -> std::optional<LayerStep> {
          const Audio& audio = *chunks[i];
          if (absl::Status valid = ValidateAudioChunk(audio, parts_.description); !valid.ok()) {
            result = valid;
            return std::nullopt;
          }
          if (audio.samples.empty()) return std::nullopt;
          session(i)->samples_ += audio.num_frames();
          // The layers keep parts of their input: give them their own copy.
          const at::Tensor chunk = AudioView(audio).unsqueeze(0);
          return LayerStep{session(i)->parts_.encoder.get(),
                           parts_.device.is_cpu() ? chunk.clone() : ToDevice(chunk, parts_.device),
                           session(i)->parts_.stop};
        },
        [&](size_t i, const at::Tensor& latent) -> absl::StatusOr<Codes> {
          return RunInterruptible(session(i)->parts_.stop, [&] {
            c10::InferenceMode inference;
            return session(i)->Quantize(latent);
          });
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
            at::zeros({1, parts_.description.channels, padding}, at::TensorOptions(parts_.device)));
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

  absl::StatusOr<Audio> Push(const Codes& codes) override { return PushBatch({this}, {&codes})[0]; }

  BatchKey batch_key() const override { return {&kNetworkDecode, parts_.weights.get()}; }

  std::vector<absl::StatusOr<Audio>> PushBatch(const std::vector<DecodeStream*>& sessions,
                                               const std::vector<const Codes*>& chunks) override {
    auto session = [&](size_t i) {
      return static_cast<NetworkDecodeStream*>(sessions[i]);  // Same batch key.
    };
    return StepTogether<absl::StatusOr<Audio>>(
        sessions.size(), absl::InternalError("not decoded"),
        [&](size_t i, absl::StatusOr<Audio>& result) -> std::optional<LayerStep> {
          absl::StatusOr<at::Tensor> latent = session(i)->Dequantize(*chunks[i]);
          if (!latent.ok()) {
            result = latent.status();
            return std::nullopt;
          }
          return LayerStep{session(i)->decoder_.get(), *std::move(latent), session(i)->parts_.stop};
        },
        [&](size_t i, const at::Tensor& samples) -> absl::StatusOr<Audio> {
          return RunInterruptible(session(i)->parts_.stop, [&] {
            c10::InferenceMode inference;
            return session(i)->Output(samples);
          });
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
  // Checks the chunk and turns it into the decoder's input.
  absl::StatusOr<at::Tensor> Dequantize(const Codes& codes) {
    RETURN_IF_ERROR(ValidateCodesChunk(codes, parts_.description, codebooks_));
    frames_ += codes.levels[0].frames * parts_.description.level_strides[0];
    return RunInterruptible(parts_.stop, [&] {
      c10::InferenceMode inference;
      return parts_.dequantize(codes);
    });
  }

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
