#ifndef BACKENDS_STREAMING_STREAM_CONV_H_
#define BACKENDS_STREAMING_STREAM_CONV_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <memory>

#include "backends/kernels/blas_order_products.h"
#include "backends/kernels/conv_spec.h"
#include "backends/kernels/onednn_conv.h"
#include "backends/streaming/stream_layer.h"

namespace codec::nn {

// Streams a convolution: keeps the input it has not finished with (the last
// `kernel - stride` samples, and a partial stride), starts with the left
// padding as state (a reflection needs the first `left + 1` samples first)
// and emits each output once its whole window has arrived. Finish adds the
// right padding. A stream too short to reflect runs the offline layer.
class StreamConv1d final : public StreamLayer {
 public:
  explicit StreamConv1d(StreamConvSpec spec);
  ~StreamConv1d() override;
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override;
  void VisitState(StreamStateVisitor& visitor) override;

 private:
  // The kernel offline uses on long inputs; oneDNN's prepared once.
  at::Tensor Convolve(const at::Tensor& padded);
  // Runs every whole window in buffer_ and drops the input no window needs.
  at::Tensor RunWindows();
  // The zeros Finish adds past the right padding to complete the last window.
  int64_t EndPadding() const;

  const StreamConvSpec spec_;
  const int64_t effective_kernel_;
  at::Tensor buffer_;      // Padded input from the next window's start.
  bool started_ = false;   // Whether the left padding is in buffer_.
  int64_t input_seen_ = 0;
  std::unique_ptr<OnednnConv1d> onednn_;  // Made on first use.
};

// Streams a transposed convolution: each input frame adds to `kernel`
// output samples; those no later frame reaches (`stride` per frame) are
// final, and the overlapping tail is kept (without the bias, so that it is
// added once) and added to the next frames' output.
class StreamConvTranspose1d final : public StreamLayer {
 public:
  explicit StreamConvTranspose1d(StreamConvTransposeSpec spec);
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override;
  void VisitState(StreamStateVisitor& visitor) override;

 private:
  // The full transposed convolution of x, without bias.
  at::Tensor FullConvolution(const at::Tensor& x);
  // The weights' products with a frame, or null where the general
  // transposed conv is the better (or only) way (or runs in bfloat16).
  const RowByRowProducts* FrameProducts();
  // Full-convolution samples [full_emitted_, full_emitted_ + n) of `y` as
  // output: the bias added, the start cropped.
  at::Tensor Emit(const at::Tensor& y);

  const StreamConvTransposeSpec spec_;
  const int64_t kernel_;
  at::Tensor tail_;  // Partial sums of the next kernel - stride samples.
  int64_t full_emitted_ = 0;
  // The products of frames with the weights, made on first use. Shared by
  // the streams of the model.
  std::shared_ptr<const RowByRowProducts> frame_products_;
};

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_STREAM_CONV_H_
