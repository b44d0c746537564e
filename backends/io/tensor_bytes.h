#ifndef BACKENDS_IO_TENSOR_BYTES_H_
#define BACKENDS_IO_TENSOR_BYTES_H_

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <vector>

namespace codec::io {

// A contiguous CPU tensor copied from raw little-endian bytes, which must
// hold exactly prod(sizes) elements of `dtype`.
at::Tensor TensorFromBytes(const char* data, c10::ScalarType dtype,
                           const std::vector<int64_t>& sizes);

// prod(shape), or nullopt when a dimension is negative or the product
// overflows int64: shapes come from files.
std::optional<int64_t> ElementCount(const std::vector<int64_t>& shape);

// Element types by the names the two formats use ("FloatStorage", "F32").
std::optional<c10::ScalarType> DtypeFromTorchStorage(const std::string& name);
std::optional<c10::ScalarType> DtypeFromSafetensors(const std::string& name);

}  // namespace codec::io

#endif  // BACKENDS_IO_TENSOR_BYTES_H_
