#ifndef BACKENDS_NN_PARAMETER_LOADING_H_
#define BACKENDS_NN_PARAMETER_LOADING_H_

#include <torch/nn/module.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "backends/io/checkpoint.h"

namespace codec::nn {

// The name a checkpoint gives the module's tensor `module_name`, for files
// laid out differently from the module (Hugging Face's names).
using CheckpointNaming = std::function<std::string(const std::string& module_name)>;

// Copies `dict` into the parameters and buffers of `module`, strictly: every
// parameter and buffer must be present with exactly its shape, and every
// tensor in `dict` must be used. Violations are INVALID_ARGUMENT listing the
// missing, unexpected and mis-shaped names (with both shapes), in the
// checkpoint's names. `naming` (the module's own names when null) says
// which tensor of `dict` each parameter is. Values are converted to each
// parameter's dtype. Fold weight norm first.
absl::Status LoadParameters(torch::nn::Module& module, const io::StateDict& dict,
                            const CheckpointNaming& naming = nullptr);

// Bytes held by the parameters and buffers of `module` and its children.
int64_t ParameterBytes(const torch::nn::Module& module);

// The device `module`'s parameters are on (the CPU when it has none).
at::Device DeviceOf(const torch::nn::Module& module);

}  // namespace codec::nn

#endif  // BACKENDS_NN_PARAMETER_LOADING_H_
