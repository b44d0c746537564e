#ifndef BACKENDS_STREAMING_STREAM_MODULES_H_
#define BACKENDS_STREAMING_STREAM_MODULES_H_

#include <torch/nn/module.h>

#include "backends/streaming/noise_source.h"
#include "backends/streaming/stream_layer.h"

namespace codec::nn {

// A module that knows how to run incrementally: it builds the StreamLayer
// (its structure, with fresh per-stream state) that computes what its
// forward computes. `noise` is the stream's noise source (noise blocks draw
// from it; it must outlive the layer).
class Streamable {
 public:
  virtual ~Streamable() = default;
  virtual StreamLayerPtr OpenStream(NoiseSource* noise) const = 0;
};

// The stream of any module the codecs are built from: torch's Conv1d (with
// its zero padding), ConvTranspose1d, ELU and Sequential, and every
// Streamable. Anything else is an error (a c10::Error naming the module).
StreamLayerPtr OpenModuleStream(const torch::nn::Module& module, NoiseSource* noise);

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_STREAM_MODULES_H_
