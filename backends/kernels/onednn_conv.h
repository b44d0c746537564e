#ifndef BACKENDS_KERNELS_ONEDNN_CONV_H_
#define BACKENDS_KERNELS_ONEDNN_CONV_H_

#include <ATen/core/Tensor.h>
#include <torch/version.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace codec::nn {

// A float conv1d without padding on oneDNN, the primitive libtorch's
// at::mkldnn_convolution builds for the same shapes (direct algorithm, every
// layout left to oneDNN), so the result is the same to the bit. What differs
// is when the work happens: at::mkldnn_convolution builds the primitive
// descriptor, reorders the weights into oneDNN's layout and allocates its
// buffers on every call, which on a streaming step of a few samples costs
// several times the convolution itself. Here that is done once per input
// shape (the last few shapes are kept, for a layer that leads batches of
// changing size); the weights in oneDNN's layout are shared by every
// OnednnConv1d of the same weight tensor (every session of a loaded model).
//
// Not thread-safe: one instance per stream layer, which one session owns.
//
// The plans need the oneDNN libtorch runs its convolutions on as a library
// of its own: Debian's libtorch 1.13 on Debian's oneDNN 2 (the Bazel build).
// A PyPI libtorch 2.x (the CUDA build) links a oneDNN 3 inside itself with
// its symbols hidden; Debian's oneDNN 2 loads beside it, but there fails to
// run grouped gemm convolutions ("could not execute a primitive", measured
// by onednn_conv_test), and its bits would not be libtorch's anyway. So in
// that build (CODEC_ONEDNN_PLANS 0) the call is libtorch's own
// at::mkldnn_convolution: the same bits, its set-up paid on every call.
#if TORCH_VERSION_MAJOR < 2
#define CODEC_ONEDNN_PLANS 1
#else
#define CODEC_ONEDNN_PLANS 0
#endif
class OnednnConv1d {
 public:
  OnednnConv1d(at::Tensor weight, at::Tensor bias, int64_t stride, int64_t dilation,
               int64_t groups);
  ~OnednnConv1d();
  OnednnConv1d(const OnednnConv1d&) = delete;
  OnednnConv1d& operator=(const OnednnConv1d&) = delete;

  // x: float [batch, in, width], width at least the dilated kernel.
  at::Tensor operator()(const at::Tensor& x);

 private:
  struct Plan;  // The primitive and its buffers for one input shape.

  const at::Tensor weight_;  // [out, in / groups, kernel]
  const at::Tensor bias_;    // [out] or undefined.
  const int64_t stride_;
  const int64_t dilation_;
  const int64_t groups_;
  // For the last input shapes seen, the latest first.
  std::vector<std::unique_ptr<Plan>> plans_;
};

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_ONEDNN_CONV_H_
