#include "backends/kernels/tensor_convert.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace codec::nn {

at::Tensor AudioView(const Audio& audio) {
  return at::from_blob(const_cast<float*>(audio.samples.data()),
                       {audio.channels, audio.num_frames()}, at::kFloat);
}

at::Tensor ToDevice(const at::Tensor& host, at::Device device) {
  if (host.device() == device) return host;
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

at::Tensor IndexTensor(const std::vector<int64_t>& indices, at::Device device) {
  return ToDevice(at::tensor(indices, at::TensorOptions(at::kLong)), device);
}

Audio AudioFromTensor(const at::Tensor& samples, int sample_rate) {
  return AudioBatchFromTensor(samples.unsqueeze(0), sample_rate).front();
}

CodeLevel LevelFromTensor(const at::Tensor& codes) {
  return std::move(CodesBatchFromLevels({codes.unsqueeze(0)}).front().levels.front());
}

at::Tensor TensorFromLevel(const CodeLevel& level) {
  at::Tensor codes = at::empty({level.num_codebooks, level.frames}, at::kLong);
  std::copy(level.values.begin(), level.values.end(), codes.data_ptr<int64_t>());
  return codes;
}

at::Tensor AudioBatchToDevice(const std::vector<const Audio*>& chunks, at::Device device) {
  const Audio& first = *chunks.front();
  const int64_t rows = static_cast<int64_t>(chunks.size());
  const int64_t row_size = static_cast<int64_t>(first.samples.size());
  at::Tensor host = at::empty({rows, first.channels, first.num_frames()},
                              at::TensorOptions(at::kFloat).pinned_memory(!device.is_cpu()));
  float* into = host.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    TORCH_CHECK(static_cast<int64_t>(chunks[r]->samples.size()) == row_size &&
                    chunks[r]->channels == first.channels,
                "a batch's audio chunks have one shape");
    std::copy(chunks[r]->samples.begin(), chunks[r]->samples.end(), into + r * row_size);
  }
  return device.is_cpu() ? host : host.to(device, /*non_blocking=*/true);
}

std::vector<Audio> AudioBatchFromTensor(const at::Tensor& samples, int sample_rate) {
  RECORD_USER_SCOPE("codec::download");  // For profilers and op counts.
  const at::Tensor host = samples.to(at::kCPU, at::kFloat).contiguous();
  const int64_t rows = host.size(0), row_size = host.numel() / std::max<int64_t>(rows, 1);
  std::vector<Audio> audio(rows);
  const float* from = host.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    audio[r].sample_rate = sample_rate;
    audio[r].channels = static_cast<int>(host.size(1));
    audio[r].samples.assign(from + r * row_size, from + (r + 1) * row_size);
  }
  return audio;
}

std::vector<at::Tensor> LevelBatchToDevice(const std::vector<const Codes*>& chunks,
                                           at::Device device) {
  const Codes& first = *chunks.front();
  const int64_t rows = static_cast<int64_t>(chunks.size());
  int64_t row_size = 0;
  for (const CodeLevel& level : first.levels) row_size += level.num_codebooks * level.frames;
  at::Tensor host =
      at::empty({rows, row_size}, at::TensorOptions(at::kLong).pinned_memory(!device.is_cpu()));
  int64_t* into = host.data_ptr<int64_t>();
  for (const Codes* codes : chunks) {
    TORCH_CHECK(codes->levels.size() == first.levels.size(), "a batch's codes have one shape");
    for (size_t l = 0; l < codes->levels.size(); ++l) {
      const CodeLevel& level = codes->levels[l];
      TORCH_CHECK(level.num_codebooks == first.levels[l].num_codebooks &&
                      level.frames == first.levels[l].frames,
                  "a batch's codes have one shape");
      into = std::copy(level.values.begin(), level.values.end(), into);
    }
  }
  const at::Tensor packed = device.is_cpu() ? host : host.to(device, /*non_blocking=*/true);
  std::vector<at::Tensor> levels;
  int64_t offset = 0;
  for (const CodeLevel& level : first.levels) {
    const int64_t size = level.num_codebooks * level.frames;
    levels.push_back(packed.narrow(1, offset, size).view({rows, level.num_codebooks, level.frames}));
    offset += size;
  }
  return levels;
}

std::vector<Codes> CodesBatchFromLevels(const std::vector<at::Tensor>& levels) {
  RECORD_USER_SCOPE("codec::download");
  const int64_t rows = levels.front().size(0);
  std::vector<at::Tensor> flat;
  for (const at::Tensor& level : levels) {
    flat.push_back(level.reshape({rows, level.size(1) * level.size(2)}).to(at::kLong));
  }
  const at::Tensor host = at::cat(flat, 1).to(at::kCPU).contiguous();
  const int64_t row_size = host.size(1);
  std::vector<Codes> codes(rows);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t* from = host.data_ptr<int64_t>() + r * row_size;
    for (const at::Tensor& level : levels) {
      CodeLevel out{static_cast<int>(level.size(1)), level.size(2), {}};
      out.values.assign(from, from + out.num_codebooks * out.frames);
      from += out.num_codebooks * out.frames;
      codes[r].levels.push_back(std::move(out));
    }
  }
  return codes;
}

}  // namespace codec::nn
