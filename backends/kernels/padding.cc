#include "backends/kernels/padding.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

namespace codec::nn {

at::Tensor Pad1d(const at::Tensor& x, int64_t left, int64_t right, PadMode mode) {
  if (mode == PadMode::kZero) return at::constant_pad_nd(x, {left, right}, 0.0);
  if (mode == PadMode::kReplicate) {
    const int64_t length = x.size(-1);
    std::vector<at::Tensor> parts;
    if (left > 0) parts.push_back(x.narrow(-1, 0, 1).expand({x.size(0), x.size(1), left}));
    parts.push_back(x);
    if (right > 0) parts.push_back(x.narrow(-1, length - 1, 1).expand({x.size(0), x.size(1), right}));
    return parts.size() == 1 ? x : at::cat(parts, -1);
  }
  const int64_t length = x.size(-1);
  const int64_t max_pad = std::max(left, right);
  int64_t extension = 0;
  at::Tensor input = x;
  if (length <= max_pad) {
    extension = max_pad - length + 1;
    input = at::constant_pad_nd(x, {0, extension}, 0.0);
  }
  at::Tensor padded = at::reflection_pad1d(input, {left, right});
  return padded.narrow(-1, 0, padded.size(-1) - extension);
}

at::Tensor Unpad1d(const at::Tensor& x, int64_t left, int64_t right) {
  return x.narrow(-1, left, x.size(-1) - left - right);
}

int64_t ExtraPaddingForConv1d(int64_t length, int64_t kernel_size, int64_t stride,
                              int64_t padding_total) {
  const double n_frames = static_cast<double>(length - kernel_size + padding_total) / stride + 1.0;
  const int64_t ideal_length =
      (static_cast<int64_t>(std::ceil(n_frames)) - 1) * stride + (kernel_size - padding_total);
  return ideal_length - length;
}

}  // namespace codec::nn
