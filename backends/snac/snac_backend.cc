#include "backends/snac/snac_backend.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/nn/interrupt.h"
#include "backends/nn/tensor_convert.h"

namespace codec::snac {

SnacBackend::SnacBackend(std::string id, SnacConfig config, std::string weights_path)
    : CheckpointBackend(std::move(id), config.Describe(), std::move(weights_path),
                        [config](io::Checkpoint checkpoint) {
                          return BuildSnacModel(config, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<std::shared_ptr<CodecBackend>> SnacBackend::Create(std::string id,
                                                                  const std::string& preset,
                                                                  const nlohmann::json& config,
                                                                  std::string weights_path) {
  ASSIGN_OR_RETURN(SnacConfig merged,
                   MergeConfig(preset, &SnacPreset, &SnacConfigFromJson, {&config}));
  return std::make_shared<SnacBackend>(std::move(id), std::move(merged), std::move(weights_path));
}

absl::StatusOr<Codes> SnacBackend::Encode(const Audio& audio, const EncodeOptions& options) const {
  RETURN_IF_ERROR(ValidateAudioInput(audio, description()));
  const int levels = static_cast<int>(config_.vq_strides.size());
  if (options.bandwidth_kbps) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", id(), "' has a fixed bitrate; it takes no bandwidth"));
  }
  if (options.n_q && *options.n_q != levels) {
    return absl::InvalidArgumentError(absl::StrCat("'", id(), "' always encodes all ", levels,
                                                   " levels; n_q ", *options.n_q,
                                                   " is not supported"));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const SnacModel> network, model());
  return nn::RunInterruptible(options.stop,
                              [&] { return network->Encode(nn::AudioView(audio)); });
}

absl::Status SnacBackend::ValidateCodes(const Codes& codes) const {
  const std::vector<int>& strides = config_.vq_strides;
  if (codes.levels.size() != strides.size()) {
    return absl::InvalidArgumentError(absl::StrCat("'", id(), "' takes ", strides.size(),
                                                   " code levels, got ", codes.levels.size()));
  }
  RETURN_IF_ERROR(codes.Validate(config_.codebook_size));
  if (!codes.scales.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", id(), "' takes no segment scales"));
  }
  const int64_t frames = codes.levels.back().frames * strides.back();
  std::vector<int64_t> expected;
  for (size_t i = 0; i < strides.size(); ++i) expected.push_back(frames / strides[i]);
  for (size_t i = 0; i < strides.size(); ++i) {
    const CodeLevel& level = codes.levels[i];
    if (level.num_codebooks != 1 || frames % strides[i] != 0 || level.frames != expected[i]) {
      std::vector<int64_t> got;
      for (const CodeLevel& l : codes.levels) got.push_back(l.frames);
      return absl::InvalidArgumentError(
          absl::StrCat("code level lengths [", absl::StrJoin(got, ", "),
                       "] do not fit vq_strides [", absl::StrJoin(strides, ", "), "]: expected [",
                       absl::StrJoin(expected, ", "), "] of one codebook each"));
    }
  }
  if (config_.attn_window_size && frames % *config_.attn_window_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(frames, " frames are not a multiple of the attention window (",
                     *config_.attn_window_size, "); encoded audio always is"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Audio> SnacBackend::Decode(const Codes& codes, const DecodeOptions& options) const {
  RETURN_IF_ERROR(ValidateCodes(codes));
  ASSIGN_OR_RETURN(std::shared_ptr<const SnacModel> network, model());
  nn::NoiseSource noise;
  if (options.noise == NoiseMode::kSeeded) {
    noise = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  } else if (options.noise == NoiseMode::kRandom) {
    noise = at::make_generator<at::CPUGeneratorImpl>(std::random_device{}());
  }
  return nn::RunInterruptible(options.stop, [&] {
    return nn::AudioFromTensor(network->Decode(codes, std::move(noise)), config_.sampling_rate);
  });
}

}  // namespace codec::snac
