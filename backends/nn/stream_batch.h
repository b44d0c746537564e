#ifndef BACKENDS_NN_STREAM_BATCH_H_
#define BACKENDS_NN_STREAM_BATCH_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "backends/nn/stream_layer.h"

namespace codec::nn {

// Pushes inputs[i] ([1, channels, time]) into layers[i], distinct streams of
// one network, and returns each stream's output as its own Push would.
//
// Streams whose states line up (the same slot shapes, flags and relevant
// counts, and inputs of one shape) push as one batch: their state slots are
// stacked into the first one's layers, which run once on the stacked
// inputs, and the new state is split back into every stream. Rows never
// mix (each layer computes a row from that row alone, and noise is drawn
// from each row's own source), so a stream's output is the same whether it
// ran alone or in any batch, up to the float rounding of batched kernels.
// The others push alone. When a push throws, every stream of its batch is
// left unusable, as Push leaves one.
std::vector<at::Tensor> StackedPush(const std::vector<StreamLayer*>& layers,
                                    const std::vector<at::Tensor>& inputs);

// The stacked batches (of two or more streams) the process has pushed, and
// the streams they held.
struct StackedPushCount {
  int64_t batches = 0;
  int64_t rows = 0;
};
StackedPushCount StackedPushes();

}  // namespace codec::nn

#endif  // BACKENDS_NN_STREAM_BATCH_H_
