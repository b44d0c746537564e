#ifndef BACKENDS_NN_PARAMETER_LOADING_H_
#define BACKENDS_NN_PARAMETER_LOADING_H_

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "backends/io/checkpoint.h"

namespace codec::nn {

// Copies `dict` into the parameters and buffers of `module`, strictly: every
// parameter and buffer must be present with exactly its shape, and every
// tensor in `dict` must be used. Violations are INVALID_ARGUMENT listing the
// missing, unexpected and mis-shaped names (with both shapes). Values are
// converted to each parameter's dtype. Fold weight norm first.
absl::Status LoadParameters(torch::nn::Module& module, const io::StateDict& dict);

// Bytes held by the parameters and buffers of `module` and its children.
int64_t ParameterBytes(const torch::nn::Module& module);

// The device `module`'s parameters are on (the CPU when it has none).
at::Device DeviceOf(const torch::nn::Module& module);

}  // namespace codec::nn

#endif  // BACKENDS_NN_PARAMETER_LOADING_H_
