#include "backends/streaming/stream_layer.h"

#include <ATen/ATen.h>

#include "backends/streaming/interrupt.h"

namespace codec::nn {

at::Tensor CatTime(const at::Tensor& a, const at::Tensor& b) {
  if (TimeLength(a) == 0) return b;
  if (TimeLength(b) == 0) return a;
  return at::cat({a, b}, -1);
}

int64_t TimeLength(const at::Tensor& x) { return x.defined() ? x.size(-1) : 0; }

at::Tensor StreamSequential::Push(const at::Tensor& x) {
  at::Tensor y = x;
  for (const StreamLayerPtr& layer : layers_) {
    if (TimeLength(y) == 0) return {};
    y = layer->Push(y);
  }
  return y;
}

at::Tensor StreamSequential::Finish() {
  // Each layer's last outputs reach the next layer before that one ends.
  at::Tensor carry;
  for (const StreamLayerPtr& layer : layers_) {
    const at::Tensor pushed = TimeLength(carry) > 0 ? layer->Push(carry) : at::Tensor();
    carry = CatTime(pushed, layer->Finish());
  }
  return carry;
}

void StreamSequential::VisitState(StreamStateVisitor& visitor) {
  for (const StreamLayerPtr& layer : layers_) layer->VisitState(visitor);
}

at::Tensor StreamPointwise::Push(const at::Tensor& x) {
  if (TimeLength(x) == 0) return {};
  PollInterrupt();
  // libtorch's vectorised kernels compute a row's last few elements with
  // scalar code that rounds differently; offline that is only the signal's
  // end. Pad each chunk so that every sample takes the vector path.
  constexpr int64_t kVectorBlock = 16;
  const int64_t length = TimeLength(x);
  const int64_t padding = (kVectorBlock - length % kVectorBlock) % kVectorBlock;
  if (padding == 0) return fn_(x);
  return fn_(at::constant_pad_nd(x, {0, padding}, 0.0)).narrow(-1, 0, length);
}

at::Tensor StreamResidual::Combine(const at::Tensor& skip_out, const at::Tensor& block_out) {
  skip_pending_ = CatTime(skip_pending_, skip_out);
  block_pending_ = CatTime(block_pending_, block_out);
  const int64_t ready = std::min(TimeLength(skip_pending_), TimeLength(block_pending_));
  if (ready == 0) return {};
  // skip + block, in the offline layers' order of operands.
  const at::Tensor out = skip_pending_.narrow(-1, 0, ready) + block_pending_.narrow(-1, 0, ready);
  skip_pending_ = skip_pending_.narrow(-1, ready, TimeLength(skip_pending_) - ready);
  block_pending_ = block_pending_.narrow(-1, ready, TimeLength(block_pending_) - ready);
  return out;
}

at::Tensor StreamResidual::Push(const at::Tensor& x) {
  if (TimeLength(x) == 0) return {};
  return Combine(skip_ ? skip_->Push(x) : x, block_->Push(x));
}

at::Tensor StreamResidual::Finish() {
  const at::Tensor out = Combine(skip_ ? skip_->Finish() : at::Tensor(), block_->Finish());
  TORCH_CHECK(TimeLength(skip_pending_) == 0 && TimeLength(block_pending_) == 0,
              "residual paths ended at different lengths");
  return out;
}

void StreamResidual::VisitState(StreamStateVisitor& visitor) {
  if (skip_) skip_->VisitState(visitor);
  block_->VisitState(visitor);
  visitor.Rows(skip_pending_, 0);
  visitor.Rows(block_pending_, 0);
}

at::Tensor StreamWindowed::Push(const at::Tensor& x) {
  pending_ = CatTime(pending_, x);
  const int64_t ready = TimeLength(pending_) / window_ * window_;
  if (ready == 0) return {};
  PollInterrupt();
  const at::Tensor out = fn_(pending_.narrow(-1, 0, ready));
  pending_ = pending_.narrow(-1, ready, TimeLength(pending_) - ready);
  return out;
}

at::Tensor StreamWindowed::Finish() {
  TORCH_CHECK(TimeLength(pending_) == 0, "the stream ended inside a window of ", window_,
              " samples (", TimeLength(pending_), " left over)");
  return {};
}

}  // namespace codec::nn
