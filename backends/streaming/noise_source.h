#ifndef BACKENDS_STREAMING_NOISE_SOURCE_H_
#define BACKENDS_STREAMING_NOISE_SOURCE_H_

#include <ATen/core/Generator.h>

#include <optional>

namespace codec::nn {

// The decoder's noise source for one decode (SNAC's NoiseBlock): nullopt
// switches the noise blocks off (identity).
using NoiseSource = std::optional<at::Generator>;

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_NOISE_SOURCE_H_
