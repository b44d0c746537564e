#ifndef BACKENDS_STREAMING_RECEPTIVE_FIELD_H_
#define BACKENDS_STREAMING_RECEPTIVE_FIELD_H_

#include <cstdint>
#include <vector>

namespace codec::nn {

// How far one layer's outputs reach into its input: the arithmetic behind a
// stream's algorithmic latency. Pointwise layers, LSTMs and residual skips
// reach no further than their input and need no entry; a residual block's
// path is listed inline (its reach bounds the skip's).
struct LayerReach {
  enum class Kind { kConv, kTransposedConv, kWindow };
  Kind kind = Kind::kConv;
  int64_t kernel = 1;  // Dilated: (kernel - 1) * dilation + 1.
  int64_t stride = 1;  // Conv: inputs per output; transposed: outputs per input; window: its size.
  int64_t left = 0;    // Conv: left padding; transposed: outputs cropped at the start.

  static LayerReach Conv(int64_t kernel, int64_t stride, int64_t dilation, int64_t left);
  static LayerReach TransposedConv(int64_t kernel, int64_t stride, int64_t crop_left);
  // Whole windows of `size` samples aligned to the stream's start.
  static LayerReach Window(int64_t size);
};

// The last input sample that output sample `index` of `chain` (first layer
// first) depends on, in steady state (ignoring the stream's end).
int64_t LastInputFor(const std::vector<LayerReach>& chain, int64_t index);

// An encoder `chain` from samples to latent frames of `hop` samples, whose
// codes are final in groups of `group` frames: the most input samples past
// the end of a frame needed before its codes are final.
int64_t EncoderLookaheadSamples(const std::vector<LayerReach>& chain, int64_t hop, int64_t group);

// A decoder `chain` from latent frames to samples, `hop` samples a frame,
// fed codes in groups of `group` frames: the most frames past a frame needed
// before all of its samples are final.
int64_t DecoderLookaheadFrames(const std::vector<LayerReach>& chain, int64_t hop, int64_t group);

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_RECEPTIVE_FIELD_H_
