#include "backends/io/safetensors.h"

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/tensor_bytes.h"

namespace codec::io {
namespace {

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat("corrupt safetensors file: ", what));
}

struct Span {
  uint64_t begin, end;
  std::string name;
};

std::optional<std::string> SafetensorsDtypeName(c10::ScalarType dtype) {
  for (const char* name : {"F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"}) {
    if (DtypeFromSafetensors(name) == dtype) return std::string(name);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> SerializeSafetensors(const StateDict& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : tensors) {
    std::optional<std::string> dtype = SafetensorsDtypeName(tensor.scalar_type());
    if (!dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", name, "' has a dtype safetensors cannot hold"));
    }
    const at::Tensor contiguous = tensor.contiguous();
    const size_t begin = data.size();
    data.append(static_cast<const char*>(contiguous.data_ptr()),
                contiguous.numel() * contiguous.element_size());
    header[name] = {{"dtype", *dtype},
                    {"shape", contiguous.sizes().vec()},
                    {"data_offsets", {begin, data.size()}}};
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // Align the data block.
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header_text.size() >> (8 * i)) & 0xFF);
  return out + header_text + data;
}

absl::StatusOr<Checkpoint> ParseSafetensors(const std::string& bytes) {
  if (bytes.size() < 8) return Corrupt("shorter than its 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) {
    header_len |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  }
  if (header_len > bytes.size() - 8) return Corrupt("header runs past the end of the file");
  nlohmann::json header =
      nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + header_len, nullptr,
                            /*allow_exceptions=*/false);
  if (!header.is_object()) return Corrupt("header is not a JSON object");
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_start;

  Checkpoint checkpoint;
  std::vector<Span> spans;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    if (!entry.is_object() || !entry.contains("dtype") || !entry["dtype"].is_string() ||
        !entry.contains("shape") || !entry["shape"].is_array() || !entry.contains("data_offsets") ||
        !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2) {
      return Corrupt(absl::StrCat("entry '", name, "' lacks dtype, shape or data_offsets"));
    }
    const std::string dtype_name = entry["dtype"].get<std::string>();
    std::optional<c10::ScalarType> dtype = DtypeFromSafetensors(dtype_name);
    if (!dtype) {
      return absl::UnimplementedError(
          absl::StrCat("safetensors entry '", name, "' has unsupported dtype ", dtype_name));
    }
    std::vector<int64_t> shape;
    for (const auto& dim : entry["shape"]) {
      if (!dim.is_number_unsigned() ||
          dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Corrupt(absl::StrCat("entry '", name, "' has a bad shape"));
      }
      shape.push_back(dim.get<int64_t>());
    }
    const std::optional<int64_t> numel = ElementCount(shape);
    int64_t bytes_needed = 0;
    if (!numel || __builtin_mul_overflow(*numel, static_cast<int64_t>(c10::elementSize(*dtype)),
                                         &bytes_needed)) {
      return Corrupt(absl::StrCat("entry '", name, "' has a shape too large to hold"));
    }
    const auto& offsets = entry["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return Corrupt(absl::StrCat("entry '", name, "' has bad data_offsets"));
    }
    const uint64_t begin = offsets[0].get<uint64_t>();
    const uint64_t end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      return Corrupt(absl::StrCat("entry '", name, "' lies outside the data block"));
    }
    if (end - begin != static_cast<uint64_t>(bytes_needed)) {
      return Corrupt(absl::StrCat("entry '", name, "' holds ", end - begin,
                                  " bytes but its shape needs ", bytes_needed));
    }
    spans.push_back({begin, end, name});
    checkpoint.tensors[name] = TensorFromBytes(bytes.data() + data_start + begin, *dtype, shape);
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) {
      return Corrupt(
          absl::StrCat("entries '", spans[i - 1].name, "' and '", spans[i].name, "' overlap"));
    }
  }
  return checkpoint;
}

}  // namespace codec::io
