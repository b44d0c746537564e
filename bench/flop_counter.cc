#include "bench/flop_counter.h"

#include <ATen/ATen.h>

#include <cstring>

namespace codec::bench {
namespace {

thread_local int64_t counted = 0;
// Depth of convolutions being run: a convolution may be computed with
// matrix products, which must not count twice.
thread_local int conv_depth = 0;

bool Is(const at::RecordFunction& fn, const char* name) {
  return std::strcmp(fn.name(), name) == 0;
}

const at::Tensor* TensorAt(const at::RecordFunction& fn, size_t i) {
  const auto inputs = fn.inputs();
  return i < inputs.size() && inputs[i].isTensor() ? &inputs[i].toTensor() : nullptr;
}

// 2 * M * N * K of a (batched) product whose operands are at `a` and `b`.
int64_t ProductFlops(const at::RecordFunction& fn, size_t a, size_t b) {
  const at::Tensor* left = TensorAt(fn, a);
  const at::Tensor* right = TensorAt(fn, b);
  if (left == nullptr || right == nullptr || left->dim() < 2) return 0;
  return 2 * left->numel() * right->size(-1);
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  if (Is(fn, "aten::convolution") || Is(fn, "aten::mkldnn_convolution")) {
    ++conv_depth;
  } else if (conv_depth == 0) {
    if (Is(fn, "aten::mm") || Is(fn, "aten::bmm") || Is(fn, "codec::row_products")) {
      counted += ProductFlops(fn, 0, 1);
    }
    if (Is(fn, "aten::addmm") || Is(fn, "aten::baddbmm")) counted += ProductFlops(fn, 1, 2);
  }
  return nullptr;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext*) {
  // Our kernels call oneDNN's convolution directly; libtorch's convolution
  // may call it too, and counts it.
  const bool direct_onednn = Is(fn, "aten::mkldnn_convolution");
  if (!Is(fn, "aten::convolution") && !direct_onednn) return;
  if (--conv_depth > 0) return;
  const at::Tensor* input = TensorAt(fn, 0);
  const at::Tensor* weight = TensorAt(fn, 1);
  const auto inputs = fn.inputs();
  const auto outputs = fn.outputs();
  if (input == nullptr || weight == nullptr || inputs.size() < 7 || outputs.empty() ||
      !outputs[0].isTensor()) {
    return;
  }
  // Each output (or, transposed, each input) element takes weight.size(1)
  // channels times the kernel's taps of multiply-adds.
  const int64_t taps = weight->numel() / (weight->size(0) * weight->size(1));
  const bool transposed = !direct_onednn && inputs[6].toBool();
  const int64_t elements = transposed ? input->numel() : outputs[0].toTensor().numel();
  counted += 2 * elements * weight->size(1) * taps;
}

}  // namespace

FlopCounter::FlopCounter() {
  counted = 0;
  conv_depth = 0;
  handle_ = at::addThreadLocalCallback(
      at::RecordFunctionCallback(&OnStart, &OnEnd).needsInputs(true).needsOutputs(true));
}

FlopCounter::~FlopCounter() { at::removeCallback(handle_); }

int64_t FlopCounter::flops() const { return counted; }

}  // namespace codec::bench
