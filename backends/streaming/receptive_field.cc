#include "backends/streaming/receptive_field.h"

#include <algorithm>

namespace codec::nn {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// The last frame of the group of `group` frames holding `frame`.
int64_t GroupEnd(int64_t frame, int64_t group) { return (frame / group + 1) * group - 1; }

// Frames far enough from the start that its padding plays no part, and
// enough of them to cover every alignment of strides and windows.
constexpr int64_t kSteadyStart = int64_t{1} << 20;
constexpr int64_t kSteadyFrames = 4096;

}  // namespace

LayerReach LayerReach::Conv(int64_t kernel, int64_t stride, int64_t dilation, int64_t left) {
  return {Kind::kConv, (kernel - 1) * dilation + 1, stride, left};
}

LayerReach LayerReach::TransposedConv(int64_t kernel, int64_t stride, int64_t crop_left) {
  return {Kind::kTransposedConv, kernel, stride, crop_left};
}

LayerReach LayerReach::Window(int64_t size) { return {Kind::kWindow, size, size, 0}; }

int64_t LastInputFor(const std::vector<LayerReach>& chain, int64_t index) {
  for (auto layer = chain.rbegin(); layer != chain.rend(); ++layer) {
    switch (layer->kind) {
      case LayerReach::Kind::kConv:
        index = index * layer->stride - layer->left + layer->kernel - 1;
        break;
      case LayerReach::Kind::kTransposedConv:
        // Full-convolution sample q is last touched by input frame q / stride.
        index = FloorDiv(index + layer->left, layer->stride);
        break;
      case LayerReach::Kind::kWindow:
        index = GroupEnd(index, layer->stride);
        break;
    }
  }
  return index;
}

int64_t EncoderLookaheadSamples(const std::vector<LayerReach>& chain, int64_t hop, int64_t group) {
  int64_t most = 0;
  for (int64_t frame = kSteadyStart; frame < kSteadyStart + kSteadyFrames; ++frame) {
    const int64_t needed = LastInputFor(chain, GroupEnd(frame, group));
    most = std::max(most, needed - ((frame + 1) * hop - 1));
  }
  return most;
}

int64_t DecoderLookaheadFrames(const std::vector<LayerReach>& chain, int64_t hop, int64_t group) {
  int64_t most = 0;
  for (int64_t frame = kSteadyStart; frame < kSteadyStart + kSteadyFrames; ++frame) {
    const int64_t needed = GroupEnd(LastInputFor(chain, (frame + 1) * hop - 1), group);
    most = std::max(most, needed - frame);
  }
  return most;
}

}  // namespace codec::nn
