#ifndef BACKENDS_RUNTIME_CHECKPOINT_BACKEND_H_
#define BACKENDS_RUNTIME_CHECKPOINT_BACKEND_H_

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backends/core/codec_backend.h"
#include "backends/core/status_macros.h"
#include "backends/io/checkpoint.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/nn/parameter_loading.h"
#include "backends/runtime/loaded_model.h"
#include "backends/runtime/split_encoder.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"

namespace codec {

// The lifecycle every checkpoint-backed codec shares: Load() reads the
// weights file, builds a `Model` from it and moves it to the backend's
// device (once, even under concurrent calls), immutable from then on;
// Unload() drops it. Encode, Decode and their streams run on the model's
// network, written here once for every family: `Model` provides
//   Codes EncodeCodes(audio [channels, T], int n_q) const;
//   at::Tensor DecodeCodes(const Codes&, nn::NoiseSource) const;  // [channels, T']
//   nn::EncodeStreamParts EncodeStreamParts(int n_q) const;
//   nn::DecodeStreamParts DecodeStreamParts() const;
// (DecodeCodes may return absl::StatusOr<at::Tensor>), and a family derives
// a final class that says which quantisers an encode uses (QuantizersFor),
// and where it differs, how codes are checked and what noise a decode adds.
template <typename Model>
class CheckpointBackend : public CodecBackend, public SplitEncoder {
 public:
  using Builder = std::function<absl::StatusOr<std::shared_ptr<Model>>(io::Checkpoint checkpoint)>;

  const std::string& id() const override { return id_; }
  const CodecDescription& description() const override { return description_; }
  bool IsLoaded() const override { return model_.Get() != nullptr; }
  int64_t MemoryBytes() const override {
    std::shared_ptr<const Model> model = model_.Get();
    return model ? nn::ParameterBytes(*model) : 0;
  }

  absl::Status Load() override {
    return model_.Load([this]() -> absl::StatusOr<std::shared_ptr<const Model>> {
      if (weights_path_.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("model '", id_, "' has no weights to load; give a weights path"));
      }
      ASSIGN_OR_RETURN(io::Checkpoint checkpoint, io::LoadCheckpoint(weights_path_));
      // A config can describe a model larger than memory: libtorch's
      // exceptions become statuses.
      absl::StatusOr<std::shared_ptr<Model>> model =
          nn::RunInterruptible(StopCheck(), [&]() -> absl::StatusOr<std::shared_ptr<Model>> {
            ASSIGN_OR_RETURN(std::shared_ptr<Model> built, build_(std::move(checkpoint)));
            built->to(device_);
            return built;
          });
      if (!model.ok()) {
        return absl::Status(model.status().code(),
                            absl::StrCat(weights_path_, ": ", model.status().message()));
      }
      return std::shared_ptr<const Model>(*std::move(model));
    });
  }

  absl::Status Unload() override {
    model_.Unload();
    return absl::OkStatus();
  }

  // The whole input at once, in the family's quantiser count and decoder
  // noise.
  absl::StatusOr<Codes> Encode(const Audio& audio, const EncodeOptions& options) const override {
    RETURN_IF_ERROR(ValidateAudioInput(audio, description_));
    ASSIGN_OR_RETURN(const int n_q, QuantizersFor(options));
    ASSIGN_OR_RETURN(std::shared_ptr<const Model> network, model());
    return nn::RunInterruptible(options.stop,
                                [&] { return network->EncodeCodes(nn::AudioView(audio), n_q); });
  }
  absl::StatusOr<Audio> Decode(const Codes& codes, const DecodeOptions& options) const override {
    RETURN_IF_ERROR(ValidateCodes(codes));
    ASSIGN_OR_RETURN(std::shared_ptr<const Model> network, model());
    return nn::RunInterruptible(options.stop, [&]() -> absl::StatusOr<Audio> {
      absl::StatusOr<at::Tensor> decoded = network->DecodeCodes(codes, NoiseFor(options));
      if (!decoded.ok()) return decoded.status();
      return nn::AudioFromTensor(*decoded, description_.sample_rate);
    });
  }

  // Streams over the model's layers with the family's quantiser count and
  // decoder noise; a family whose streams run otherwise overrides these.
  absl::StatusOr<std::unique_ptr<EncodeStream>> OpenEncodeStream(
      const EncodeOptions& options) const override {
    ASSIGN_OR_RETURN(const int n_q, QuantizersFor(options));
    ASSIGN_OR_RETURN(std::shared_ptr<const Model> network, model());
    return OpenLayerEncodeStream(std::move(network), n_q, options);
  }
  absl::StatusOr<std::unique_ptr<DecodeStream>> OpenDecodeStream(
      const DecodeOptions& options, int64_t num_samples) const override {
    ASSIGN_OR_RETURN(std::shared_ptr<const Model> network, model());
    return OpenLayerDecodeStream(std::move(network), options, num_samples, NoiseFor(options));
  }

  absl::StatusOr<nn::EncodeStreamParts> EncoderParts(int n_q) const override {
    ASSIGN_OR_RETURN(std::shared_ptr<const Model> network, model());
    return ModelEncodeParts(std::move(network), n_q);
  }

 protected:
  CheckpointBackend(std::string id, CodecDescription description, std::string weights_path,
                    at::Device device, Builder build)
      : id_(std::move(id)),
        description_(std::move(description)),
        weights_path_(std::move(weights_path)),
        device_(device),
        build_(std::move(build)) {}

  at::Device device() const { return device_; }

  // The quantisers an encode with `options` uses; INVALID_ARGUMENT naming
  // what the family does not take.
  virtual absl::StatusOr<int> QuantizersFor(const EncodeOptions& options) const = 0;
  // OK when a decode may run on `codes`: Codes::Validate against the
  // model's description, and what else the family's decoder needs.
  virtual absl::Status ValidateCodes(const Codes& codes) const {
    return codes.Validate(description_);
  }
  // What a decode with `options` draws its noise from: none, unless the
  // family's decoder adds noise.
  virtual nn::NoiseSource NoiseFor(const DecodeOptions& options) const { return std::nullopt; }
  // `n_q` when 1 <= n_q <= most; else INVALID_ARGUMENT naming the model and
  // the range. The one check of a requested quantiser count.
  absl::StatusOr<int> QuantizerCountInRange(int n_q, int most) const {
    if (n_q >= 1 && n_q <= most) return n_q;
    return absl::InvalidArgumentError(
        absl::StrCat("n_q ", n_q, " is out of range for '", id_, "': 1 to ", most));
  }

  // The loaded model, held for the caller's work; FAILED_PRECONDITION when
  // not loaded.
  absl::StatusOr<std::shared_ptr<const Model>> model() const { return model_.GetOrError(id_); }

  // Streams over the model's layers: `Model` provides EncodeStreamParts(n_q)
  // and DecodeStreamParts() (its layers and quantiser); the backend adds the
  // weights' lifetime, its description, the stop check and the noise.
  absl::StatusOr<std::unique_ptr<EncodeStream>> OpenLayerEncodeStream(
      std::shared_ptr<const Model> network, int n_q, const EncodeOptions& options) const {
    return nn::RunInterruptible(options.stop, [&] {
      nn::EncodeStreamParts parts = ModelEncodeParts(network, n_q);
      parts.stop = options.stop;
      parts.slots = SharedSlots(encode_slots_, network, [network, n_q](nn::NoiseSource*) {
        return network->EncodeStreamParts(n_q).encoder;
      });
      return nn::OpenNetworkEncodeStream(std::move(parts));
    });
  }
  absl::StatusOr<std::unique_ptr<DecodeStream>> OpenLayerDecodeStream(
      std::shared_ptr<const Model> network, const DecodeOptions& options, int64_t num_samples,
      nn::NoiseSource noise = std::nullopt) const {
    return nn::RunInterruptible(options.stop, [&] {
      nn::DecodeStreamParts parts = network->DecodeStreamParts();
      parts.slots = SharedSlots(decode_slots_, network, [network](nn::NoiseSource* noise) {
        return network->DecodeStreamParts().open_decoder(noise);
      });
      parts.weights = std::move(network);
      parts.description = description_;
      parts.device = device_;
      parts.noise = std::move(noise);
      parts.num_samples = num_samples;
      parts.lookahead_frames = options.lookahead_frames;
      parts.stop = options.stop;
      return nn::OpenNetworkDecodeStream(std::move(parts));
    });
  }

 private:
  // One direction's slot table, shared by the streams of one loaded model
  // while any of them lives: held weakly here, so the last stream's end (or
  // an Unload and Load) lets it go.
  struct SlotsCache {
    std::weak_ptr<nn::StreamSlots> slots;
    std::weak_ptr<const Model> model;
  };
  std::shared_ptr<nn::StreamSlots> SharedSlots(SlotsCache& cache,
                                               const std::shared_ptr<const Model>& network,
                                               nn::StreamSlots::LayerFactory make_layers) const
      ABSL_LOCKS_EXCLUDED(slots_mutex_) {
    absl::MutexLock lock(&slots_mutex_);
    std::shared_ptr<nn::StreamSlots> slots = cache.slots.lock();
    if (slots == nullptr || cache.model.lock() != network) {
      slots =
          std::make_shared<nn::StreamSlots>(std::move(make_layers), nn::StreamSlotsFor(device_));
      cache = {slots, network};
    }
    return slots;
  }

  nn::EncodeStreamParts ModelEncodeParts(std::shared_ptr<const Model> network, int n_q) const {
    nn::EncodeStreamParts parts = network->EncodeStreamParts(n_q);
    parts.n_q = n_q;
    parts.weights = std::move(network);
    parts.description = description_;
    parts.device = device_;
    return parts;
  }

  const std::string id_;
  const CodecDescription description_;
  const std::string weights_path_;
  const at::Device device_;
  const Builder build_;
  LoadedModel<Model> model_;
  mutable absl::Mutex slots_mutex_;
  mutable SlotsCache encode_slots_ ABSL_GUARDED_BY(slots_mutex_);
  mutable SlotsCache decode_slots_ ABSL_GUARDED_BY(slots_mutex_);
};

// The config precedence every family shares: `preset`'s (or the defaults
// when empty), then each non-null JSON override in order, then validation.
template <typename Config>
absl::StatusOr<Config> MergeConfig(const std::string& preset,
                                   absl::StatusOr<Config> (*from_preset)(const std::string&),
                                   absl::StatusOr<Config> (*from_json)(const nlohmann::json&,
                                                                       Config),
                                   std::initializer_list<const nlohmann::json*> overrides) {
  Config config;
  if (!preset.empty()) {
    ASSIGN_OR_RETURN(config, from_preset(preset));
  }
  for (const nlohmann::json* json : overrides) {
    if (json->is_null()) continue;
    ASSIGN_OR_RETURN(config, from_json(*json, std::move(config)));
  }
  RETURN_IF_ERROR(config.Validate());
  return config;
}

}  // namespace codec

#endif  // BACKENDS_RUNTIME_CHECKPOINT_BACKEND_H_
