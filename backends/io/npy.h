#ifndef BACKENDS_IO_NPY_H_
#define BACKENDS_IO_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace codec::io {

// A numpy array as stored in a .npy file.
struct NpyArray {
  // numpy descr of a little-endian (or single-byte) scalar type: "<f4",
  // "<f8", "<i8", "<i4", "<i2", "|i1", "<u4", "|u1", "|b1", ...
  std::string dtype;
  // Empty for a 0-d (scalar) array.
  std::vector<int64_t> shape;
  // Raw element bytes, C order.
  std::string data;
};

// The product of `array.shape` (1 for a 0-d array).
int64_t NumElements(const NpyArray& array);

// Parses the bytes of a .npy file, format version 1.0, 2.0 or 3.0.
// Fortran order, big-endian dtypes and non-numeric or structured dtypes are
// UNIMPLEMENTED; a malformed header or a data size other than the shape's
// is DATA_LOSS. Errors name `name_for_errors`.
absl::StatusOr<NpyArray> ParseNpy(const std::string& bytes, const std::string& name_for_errors);

// The .npy bytes np.save writes for `array` (format 1.0, or 2.0 for headers
// over 64 KiB; data aligned to 64 bytes). `array` must be consistent
// (see AsInt64); SerializeNpy does not check it.
std::string SerializeNpy(const NpyArray& array);

// The elements converted to int64 (any integer dtype) or to float (<f4 or
// <f8). Another dtype is INVALID_ARGUMENT, as is a <u8 value above
// INT64_MAX; data whose size does not match shape and dtype is DATA_LOSS.
absl::StatusOr<std::vector<int64_t>> AsInt64(const NpyArray& array);
absl::StatusOr<std::vector<float>> AsFloat32(const NpyArray& array);

// Arrays of dtype <i8 / <f4; `values` must hold the shape's element count.
NpyArray NpyFromInt64(std::vector<int64_t> shape, const std::vector<int64_t>& values);
NpyArray NpyFromFloat32(std::vector<int64_t> shape, const std::vector<float>& values);

}  // namespace codec::io

#endif  // BACKENDS_IO_NPY_H_
