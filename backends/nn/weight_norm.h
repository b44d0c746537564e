#ifndef BACKENDS_NN_WEIGHT_NORM_H_
#define BACKENDS_NN_WEIGHT_NORM_H_

#include "absl/status/status.h"
#include "backends/io/checkpoint.h"

namespace codec::nn {

// Replaces every weight-normalised pair in `dict` by the plain weight it
// stands for, w = g * v / ||v|| (norm over all dims but the first), so models
// run plain convolutions. Both layouts are folded:
//   X.weight_g / X.weight_v                                   (torch.nn.utils.weight_norm)
//   X.parametrizations.weight.original0 / .original1          (parametrizations.weight_norm)
// into X.weight. A half pair, or a g whose shape is not [out, 1, ..., 1]
// matching v, is INVALID_ARGUMENT naming the tensor.
absl::Status FoldWeightNorm(io::StateDict& dict);

}  // namespace codec::nn

#endif  // BACKENDS_NN_WEIGHT_NORM_H_
