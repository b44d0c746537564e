#include "backends/snac/snac_backend.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"

namespace codec::snac {
namespace {

// A generator of its own on `device`, seeded with `seed`.
at::Generator GeneratorOn(at::Device device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  // A GPU generator's kind is only reachable through the device's default.
  at::Generator global = at::globalContext().defaultGenerator(device);
  at::Generator own;
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    own = global.clone();
  }
  own.set_current_seed(seed);
  return own;
}

}  // namespace

// Noise is drawn on the model's device, never copied to it. A seeded decode
// has a generator of its own, so its noise repeats whatever runs beside it.
nn::NoiseSource SnacBackend::NoiseFor(const DecodeOptions& options) const {
  if (options.noise == NoiseMode::kSeeded) return GeneratorOn(device(), options.seed);
  if (options.noise == NoiseMode::kOff) return std::nullopt;
  std::call_once(random_noise_made_,
                 [&] { random_noise_ = GeneratorOn(device(), std::random_device{}()); });
  return random_noise_;
}

SnacBackend::SnacBackend(std::string id, SnacConfig config, std::string weights_path,
                         at::Device device)
    : CheckpointBackend(std::move(id), DescribeSnac(config), std::move(weights_path), device,
                        [config](io::Checkpoint checkpoint) {
                          return BuildSnacModel(config, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<int> SnacBackend::QuantizersFor(const EncodeOptions& options) const {
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
  return levels;
}

absl::Status SnacBackend::ValidateCodes(const Codes& codes) const {
  RETURN_IF_ERROR(codes.Validate(description()));
  const int64_t frames = codes.levels.back().frames * config_.vq_strides.back();
  if (config_.attn_window_size && frames % *config_.attn_window_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(frames, " frames are not a multiple of the attention window (",
                     *config_.attn_window_size, "); encoded audio always is"));
  }
  return absl::OkStatus();
}

}  // namespace codec::snac
