#ifndef BACKENDS_STREAMING_STREAM_LAYER_H_
#define BACKENDS_STREAMING_STREAM_LAYER_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

#include "backends/streaming/stream_state.h"

namespace codec::nn {

// One layer of a network run incrementally over a stream, with its own
// state (the left context it keeps, the right context it waits for).
//
// Tensors are [batch, channels, time]; an undefined tensor means "no
// samples". Push(x) takes the next samples of the layer's input and returns
// the next samples of its output that no later input can change; Finish()
// ends the input, pads it exactly as the offline layer does, and returns
// the rest. Concatenated, the outputs equal the offline layer's output on
// the concatenated input (up to float summation order). The state is per
// stream; the weights are the loaded model's, shared and never written.
// VisitState shows every member of that state, so that streams of one
// network can push as one batch (StreamSlots).
class StreamLayer {
 public:
  virtual ~StreamLayer() = default;
  virtual at::Tensor Push(const at::Tensor& x) = 0;
  virtual at::Tensor Finish() = 0;
  virtual void VisitState(StreamStateVisitor& visitor) = 0;
};

using StreamLayerPtr = std::unique_ptr<StreamLayer>;

// `a` followed by `b` along time; either may be undefined.
at::Tensor CatTime(const at::Tensor& a, const at::Tensor& b);
// Samples along time of `x`; 0 when undefined.
int64_t TimeLength(const at::Tensor& x);

// Layers applied one after the other.
class StreamSequential final : public StreamLayer {
 public:
  explicit StreamSequential(std::vector<StreamLayerPtr> layers) : layers_(std::move(layers)) {}
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override;
  void VisitState(StreamStateVisitor& visitor) override;

 private:
  std::vector<StreamLayerPtr> layers_;
};

// A per-sample function (activations, noise): output t depends on input t
// alone. `visit_state` shows what the function keeps (noise sources).
class StreamPointwise final : public StreamLayer {
 public:
  explicit StreamPointwise(std::function<at::Tensor(const at::Tensor&)> fn,
                           std::function<void(StreamStateVisitor&)> visit_state = nullptr)
      : fn_(std::move(fn)), visit_state_(std::move(visit_state)) {}
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override { return {}; }
  void VisitState(StreamStateVisitor& visitor) override {
    if (visit_state_) visit_state_(visitor);
  }

 private:
  std::function<at::Tensor(const at::Tensor&)> fn_;
  std::function<void(StreamStateVisitor&)> visit_state_;
};

// skip(x) + block(x) for two length-preserving paths (skip null: the
// identity), aligned sample by sample: what one path has produced waits for
// the other, so the slower path's lookahead sets the layer's.
class StreamResidual final : public StreamLayer {
 public:
  StreamResidual(StreamLayerPtr skip, StreamLayerPtr block)
      : skip_(std::move(skip)), block_(std::move(block)) {}
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override;
  void VisitState(StreamStateVisitor& visitor) override;

 private:
  at::Tensor Combine(const at::Tensor& skip_out, const at::Tensor& block_out);

  StreamLayerPtr skip_;
  StreamLayerPtr block_;
  at::Tensor skip_pending_;   // Skip outputs the block has not caught up with.
  at::Tensor block_pending_;  // And the other way round.
};

// Runs a function on whole windows of `window` samples aligned to the
// stream's start (SNAC's local attention): a window runs when all of it has
// arrived. The stream must end on a window boundary.
class StreamWindowed final : public StreamLayer {
 public:
  StreamWindowed(int64_t window, std::function<at::Tensor(const at::Tensor&)> fn)
      : window_(window), fn_(std::move(fn)) {}
  at::Tensor Push(const at::Tensor& x) override;
  at::Tensor Finish() override;
  void VisitState(StreamStateVisitor& visitor) override { visitor.Rows(pending_, 0); }

 private:
  const int64_t window_;
  std::function<at::Tensor(const at::Tensor&)> fn_;
  at::Tensor pending_;
};

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_STREAM_LAYER_H_
