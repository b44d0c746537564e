#include "backends/streaming/stream_conv.h"

#include <ATen/ATen.h>

#include "backends/kernels/conv_kernel.h"
#include "backends/kernels/conv_precision.h"
#include "backends/kernels/host_kernels.h"
#include "backends/kernels/polyphase_conv_transpose.h"
#include "backends/kernels/weight_cache.h"
#include "backends/streaming/interrupt.h"

namespace codec::nn {

StreamConv1d::StreamConv1d(StreamConvSpec spec)
    : spec_(std::move(spec)),
      effective_kernel_((spec_.weight.size(-1) - 1) * spec_.dilation + 1) {}

StreamConv1d::~StreamConv1d() = default;

at::Tensor StreamConv1d::Convolve(const at::Tensor& padded) {
  PollInterrupt();
  if (ConvInBfloat16(padded, spec_.groups)) {
    return Bfloat16Conv1d(padded, spec_.weight, spec_.bias, /*padding=*/0, spec_.stride,
                          spec_.dilation, spec_.groups);
  }
  if (LongInputsUseOnednn(padded, spec_.weight, spec_.stride, spec_.dilation)) {
    if (!onednn_) {
      onednn_ = std::make_unique<OnednnConv1d>(spec_.weight, spec_.bias, spec_.stride,
                                               spec_.dilation, spec_.groups);
    }
    return (*onednn_)(padded);
  }
  return LongInputConv1d(padded, spec_.weight, spec_.bias, spec_.stride, spec_.dilation,
                         spec_.groups);
}

at::Tensor StreamConv1d::RunWindows() {
  const int64_t length = TimeLength(buffer_);
  if (length < effective_kernel_) return {};
  const int64_t windows = (length - effective_kernel_) / spec_.stride + 1;
  const at::Tensor out =
      Convolve(buffer_.narrow(-1, 0, (windows - 1) * spec_.stride + effective_kernel_));
  buffer_ = buffer_.narrow(-1, windows * spec_.stride, length - windows * spec_.stride);
  return out;
}

at::Tensor StreamConv1d::Push(const at::Tensor& x) {
  if (TimeLength(x) == 0) return {};
  input_seen_ += x.size(-1);
  buffer_ = CatTime(buffer_, x);
  if (!started_) {
    // A reflection of the first samples needs left + 1 of them.
    if (spec_.mode == PadMode::kReflect && TimeLength(buffer_) <= spec_.left) return {};
    buffer_ = Pad1d(buffer_, spec_.left, 0, spec_.mode);
    started_ = true;
  }
  return RunWindows();
}

void StreamConv1d::VisitState(StreamStateVisitor& visitor) {
  visitor.Rows(buffer_, 0);
  visitor.Shared(started_);
  // Push reads only whether input was seen at all.
  visitor.Progress(input_seen_, 1);
  visitor.Ending(EndPadding());
}

int64_t StreamConv1d::EndPadding() const {
  if (!spec_.complete_last_window || input_seen_ == 0) return 0;
  return ExtraPaddingForConv1d(input_seen_, effective_kernel_, spec_.stride,
                               spec_.left + spec_.right);
}

at::Tensor StreamConv1d::Finish() {
  if (input_seen_ == 0) return {};
  const int64_t extra = EndPadding();
  if (!started_) {
    // Too short to reflect: the offline layer's own short-input padding.
    return Convolve(Pad1d(buffer_, spec_.left, spec_.right + extra, spec_.mode));
  }
  TORCH_CHECK(spec_.mode == PadMode::kZero || spec_.right + extra == 0 ||
                  TimeLength(buffer_) > spec_.right + extra,
              "a streamed reflect-padded conv kept too little input to pad its end");
  if (spec_.right + extra > 0) buffer_ = Pad1d(buffer_, 0, spec_.right + extra, spec_.mode);
  const at::Tensor out = RunWindows();
  buffer_ = at::Tensor();
  return out;
}

StreamConvTranspose1d::StreamConvTranspose1d(StreamConvTransposeSpec spec)
    : spec_(std::move(spec)), kernel_(spec_.weight.size(-1)) {
  // The end crop must lie in the tail no later frame reaches, and a frame's
  // final samples must not extend past the full convolution's end.
  TORCH_CHECK(spec_.crop_right >= 0 && spec_.crop_right <= kernel_ - spec_.stride &&
                  kernel_ >= spec_.stride,
              "unsupported transposed conv geometry for streaming");
}

at::Tensor StreamConvTranspose1d::Emit(const at::Tensor& y) {
  const int64_t n = TimeLength(y);
  const int64_t skip = std::clamp<int64_t>(spec_.crop_left - full_emitted_, 0, n);
  full_emitted_ += n;
  if (skip == n) return {};
  at::Tensor out = y.narrow(-1, skip, n - skip);
  if (spec_.bias.defined()) out = out + spec_.bias.view({1, -1, 1});
  return out;
}

const RowByRowProducts* StreamConvTranspose1d::FrameProducts() {
  // The products keep a second, transposed copy of the weights, made when a
  // model's first stream starts. Without it, the general transposed conv
  // reorders the whole weight into oneDNN's layout on every step, so the copy
  // pays for itself within a few steps; the bound caps its memory (Mimi's
  // largest, 8.4 M values, is under it; DAC's largest are not).
  constexpr int64_t kMostWeightsCopied = int64_t{1} << 24;
  if (!UsesExactHostKernels(spec_.weight) || spec_.weight.numel() > kMostWeightsCopied) {
    return nullptr;
  }
  static auto* cache = new WeightCache<RowByRowProducts>();
  if (!frame_products_) {
    frame_products_ = cache->Get(spec_.weight, [&] {
      return std::make_shared<const RowByRowProducts>(spec_.weight.flatten(1).t());
    });
  }
  return frame_products_.get();
}

at::Tensor StreamConvTranspose1d::FullConvolution(const at::Tensor& x) {
  const RowByRowProducts* products = ConvInBfloat16(x) ? nullptr : FrameProducts();
  if (products == nullptr) {
    return FullConvTranspose1d(x, spec_.weight, /*bias=*/{}, spec_.stride);
  }
  // Each input frame's kernel-long contribution to every output channel is
  // one row of products with the weights ([out x kernel, in]); the rows
  // overlap-add at `stride` apart. A step's few frames cost a fraction of
  // the general transposed conv, and its products are rounded alike in
  // every chunking and under every BLAS.
  const int64_t batch = x.size(0), frames = x.size(2), out_channels = spec_.weight.size(1);
  const int64_t length = (frames - 1) * spec_.stride + kernel_;
  const at::Tensor frame_major = x.permute({0, 2, 1}).contiguous();  // [batch, frames, in]
  const at::Tensor contributions = at::empty({batch * frames, out_channels * kernel_}, x.options());
  products->Compute(frame_major.data_ptr<float>(), batch * frames, contributions.data_ptr<float>());
  at::Tensor y = at::zeros({batch, out_channels, length}, x.options());
  const float* from = contributions.data_ptr<float>();
  float* into = y.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t t = 0; t < frames; ++t) {
      for (int64_t o = 0; o < out_channels; ++o) {
        float* samples = into + (b * out_channels + o) * length + t * spec_.stride;
        for (int64_t k = 0; k < kernel_; ++k) samples[k] += from[k];
        from += kernel_;
      }
    }
  }
  return y;
}

at::Tensor StreamConvTranspose1d::Push(const at::Tensor& x) {
  if (TimeLength(x) == 0) return {};
  PollInterrupt();
  at::Tensor y = FullConvolution(x);
  const int64_t overlap = kernel_ - spec_.stride;
  if (tail_.defined() && overlap > 0) y.narrow(-1, 0, overlap).add_(tail_);
  const int64_t final_samples = x.size(-1) * spec_.stride;
  tail_ = y.narrow(-1, final_samples, overlap);
  return Emit(y.narrow(-1, 0, final_samples));
}

void StreamConvTranspose1d::VisitState(StreamStateVisitor& visitor) {
  visitor.Rows(tail_, 0);
  // Emit crops the first crop_left samples.
  visitor.Progress(full_emitted_, spec_.crop_left + 1);
}

at::Tensor StreamConvTranspose1d::Finish() {
  if (!tail_.defined()) return {};
  const at::Tensor last = tail_.narrow(-1, 0, TimeLength(tail_) - spec_.crop_right);
  tail_ = at::Tensor();
  return Emit(last);
}

}  // namespace codec::nn
