#include "backends/nn/tensor_convert.h"

#include <ATen/ATen.h>

namespace codec::nn {

at::Tensor AudioView(const Audio& audio) {
  return at::from_blob(const_cast<float*>(audio.samples.data()),
                       {audio.channels, audio.num_frames()}, at::kFloat);
}

at::Tensor ToDevice(const at::Tensor& host, at::Device device) {
  if (host.device() == device) return host;
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

Audio AudioFromTensor(const at::Tensor& samples, int sample_rate) {
  const at::Tensor contiguous = samples.to(at::kCPU, at::kFloat).contiguous();
  Audio audio;
  audio.sample_rate = sample_rate;
  audio.channels = static_cast<int>(contiguous.size(0));
  audio.samples.assign(contiguous.data_ptr<float>(),
                       contiguous.data_ptr<float>() + contiguous.numel());
  return audio;
}

CodeLevel LevelFromTensor(const at::Tensor& codes) {
  const at::Tensor flat = codes.to(at::kCPU, at::kLong).contiguous();
  CodeLevel level;
  level.num_codebooks = static_cast<int>(flat.size(0));
  level.frames = flat.size(1);
  level.values.assign(flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel());
  return level;
}

at::Tensor TensorFromLevel(const CodeLevel& level) {
  at::Tensor codes = at::empty({level.num_codebooks, level.frames}, at::kLong);
  std::copy(level.values.begin(), level.values.end(), codes.data_ptr<int64_t>());
  return codes;
}

}  // namespace codec::nn
