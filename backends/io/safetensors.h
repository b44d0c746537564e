#ifndef BACKENDS_IO_SAFETENSORS_H_
#define BACKENDS_IO_SAFETENSORS_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/io/checkpoint.h"

namespace codec::io {

// Parses a .safetensors file held in memory: an 8-byte little-endian header
// length, a JSON header mapping names to {dtype, shape, data_offsets}, then
// the raw little-endian data. Strict: every entry must lie inside the data
// block with the size its dtype and shape imply, entries may not overlap,
// and unknown dtypes are UNIMPLEMENTED.
absl::StatusOr<Checkpoint> ParseSafetensors(const std::string& bytes);

// Serialises `tensors` (contiguous CPU tensors of a supported dtype) as a
// .safetensors file, e.g. to export folded weights.
absl::StatusOr<std::string> SerializeSafetensors(const StateDict& tensors);

}  // namespace codec::io

#endif  // BACKENDS_IO_SAFETENSORS_H_
