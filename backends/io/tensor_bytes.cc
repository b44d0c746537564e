#include "backends/io/tensor_bytes.h"

#include <ATen/Functions.h>

#include <cstring>
#include <map>

namespace codec::io {

at::Tensor TensorFromBytes(const char* data, c10::ScalarType dtype,
                           const std::vector<int64_t>& sizes) {
  at::Tensor tensor = at::empty(sizes, at::TensorOptions().dtype(dtype));
  if (tensor.numel() > 0)
    std::memcpy(tensor.data_ptr(), data, tensor.numel() * tensor.element_size());
  return tensor;
}

std::optional<int64_t> ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(count, dim, &count)) return std::nullopt;
  }
  return count;
}

std::optional<c10::ScalarType> DtypeFromTorchStorage(const std::string& name) {
  static const auto* kTypes = new std::map<std::string, c10::ScalarType>{
      {"FloatStorage", c10::kFloat}, {"DoubleStorage", c10::kDouble},
      {"HalfStorage", c10::kHalf},   {"BFloat16Storage", c10::kBFloat16},
      {"LongStorage", c10::kLong},   {"IntStorage", c10::kInt},
      {"ShortStorage", c10::kShort}, {"CharStorage", c10::kChar},
      {"ByteStorage", c10::kByte},   {"BoolStorage", c10::kBool}};
  auto it = kTypes->find(name);
  if (it == kTypes->end()) return std::nullopt;
  return it->second;
}

std::optional<c10::ScalarType> DtypeFromSafetensors(const std::string& name) {
  static const auto* kTypes = new std::map<std::string, c10::ScalarType>{
      {"F32", c10::kFloat}, {"F64", c10::kDouble}, {"F16", c10::kHalf},  {"BF16", c10::kBFloat16},
      {"I64", c10::kLong},  {"I32", c10::kInt},    {"I16", c10::kShort}, {"I8", c10::kChar},
      {"U8", c10::kByte},   {"BOOL", c10::kBool}};
  auto it = kTypes->find(name);
  if (it == kTypes->end()) return std::nullopt;
  return it->second;
}

}  // namespace codec::io
