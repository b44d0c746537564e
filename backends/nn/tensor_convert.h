#ifndef BACKENDS_NN_TENSOR_CONVERT_H_
#define BACKENDS_NN_TENSOR_CONVERT_H_

#include <ATen/core/Tensor.h>

#include "backends/core/audio.h"
#include "backends/core/codes.h"

namespace codec::nn {

// Conversions between the torch-free API types and tensors.

// A float [channels, frames] view of `audio`'s samples (no copy: `audio`
// must outlive it, and it must not be written to).
at::Tensor AudioView(const Audio& audio);
// Copies a float [channels, frames] tensor into Audio at `sample_rate`.
Audio AudioFromTensor(const at::Tensor& samples, int sample_rate);

// int64 [num_codebooks, frames] <-> CodeLevel.
CodeLevel LevelFromTensor(const at::Tensor& codes);
at::Tensor TensorFromLevel(const CodeLevel& level);

}  // namespace codec::nn

#endif  // BACKENDS_NN_TENSOR_CONVERT_H_
