#ifndef BACKENDS_IO_NPY_H_
#define BACKENDS_IO_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace codec::io {

// A numpy array as stored in a .npy file: little-endian, C order.
struct NpyArray {
  std::string dtype;           // numpy descr: "<f4", "<i8", "|u1", ...
  std::vector<int64_t> shape;  // Empty for a 0-d (scalar) array.
  std::string data;            // Raw element bytes.
};

int64_t NumElements(const NpyArray& array);

// Parses .npy bytes (format versions 1 to 3). Fortran order and big-endian
// dtypes are UNIMPLEMENTED; malformed headers or a data size that does not
// match the shape are DATA_LOSS. `name` labels errors.
absl::StatusOr<NpyArray> ParseNpy(const std::string& bytes, const std::string& name);
// Serialises as format 1.0 with the header padded to 64 bytes, as numpy does.
std::string SerializeNpy(const NpyArray& array);

// Values converted from any integer dtype / from <f4 or <f8; other dtypes
// are INVALID_ARGUMENT.
absl::StatusOr<std::vector<int64_t>> AsInt64(const NpyArray& array);
absl::StatusOr<std::vector<float>> AsFloat32(const NpyArray& array);

NpyArray NpyFromInt64(std::vector<int64_t> shape, const std::vector<int64_t>& values);
NpyArray NpyFromFloat32(std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace codec::io

#endif  // BACKENDS_IO_NPY_H_
