#ifndef BACKENDS_STREAMING_STREAM_STATE_H_
#define BACKENDS_STREAMING_STREAM_STATE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "backends/streaming/noise_source.h"

namespace codec::nn {

// Walks what a StreamLayer keeps between steps, slot by slot, in an order
// fixed by the layer tree. Stacking the slots of several streams of one
// network makes one stream of a batch (StreamSlots, stream_slots.h); a
// layer that keeps anything it does not show here cannot be stacked
// correctly, so every member a step reads or writes is a slot.
class StreamStateVisitor {
 public:
  virtual ~StreamStateVisitor() = default;
  // A tensor of one row per stream along `batch_dim` (undefined: nothing yet).
  virtual void Rows(at::Tensor& tensor, int64_t batch_dim) = 0;
  // A flag streams must agree on to step together.
  virtual void Shared(bool& flag) = 0;
  // A count (samples seen, emitted) that a step advances alike for every
  // stream of a batch. Its value changes what a step does only below
  // `matters_below`, so streams whose counts both reach it step together.
  virtual void Progress(int64_t& count, int64_t matters_below) = 0;
  // The noise sources a layer draws from, one per row.
  virtual void Sources(std::vector<NoiseSource*>& sources) = 0;
  // A value Finish reads and Push does not (how much a conv pads the end):
  // streams whose values differ cannot end as one batch.
  virtual void Ending(int64_t value) = 0;
};

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_STREAM_STATE_H_
