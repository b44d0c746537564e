#include "backends/io/npy.h"

#include <cstring>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace codec::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct DtypeInfo {
  int size;
  bool is_signed_int, is_unsigned_int, is_float;
};

const std::map<std::string, DtypeInfo>& Dtypes() {
  static const auto* kDtypes = new std::map<std::string, DtypeInfo>{
      {"<f4", {4, false, false, true}}, {"<f8", {8, false, false, true}},
      {"<i8", {8, true, false, false}}, {"<i4", {4, true, false, false}},
      {"<i2", {2, true, false, false}}, {"|i1", {1, true, false, false}},
      {"<u8", {8, false, true, false}}, {"<u4", {4, false, true, false}},
      {"<u2", {2, false, true, false}}, {"|u1", {1, false, true, false}},
      {"|b1", {1, false, true, false}}};
  return *kDtypes;
}

absl::Status Corrupt(const std::string& name, const std::string& what) {
  return absl::DataLossError(absl::StrCat("npy array '", name, "': ", what));
}

// The value text of `key` in numpy's header dict, e.g. "'<f4'" or "(2, 3)".
absl::StatusOr<std::string> HeaderValue(const std::string& header, const std::string& key,
                                        const std::string& name) {
  const std::string quoted = absl::StrCat("'", key, "':");
  const size_t at = header.find(quoted);
  if (at == std::string::npos) return Corrupt(name, absl::StrCat("header lacks '", key, "'"));
  size_t begin = at + quoted.size();
  while (begin < header.size() && header[begin] == ' ') ++begin;
  size_t end = begin;
  if (begin < header.size() && header[begin] == '(') {
    end = header.find(')', begin);
    if (end == std::string::npos) return Corrupt(name, "unterminated shape");
    ++end;
  } else {
    end = header.find_first_of(",}", begin);
    if (end == std::string::npos) return Corrupt(name, "malformed header");
  }
  return header.substr(begin, end - begin);
}

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

template <typename T>
NpyArray FromValues(const char* dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  NpyArray array{dtype, std::move(shape), std::string(values.size() * sizeof(T), '\0')};
  std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

}  // namespace

int64_t NumElements(const NpyArray& array) {
  int64_t n = 1;
  for (int64_t d : array.shape) n *= d;
  return n;
}

absl::StatusOr<NpyArray> ParseNpy(const std::string& bytes, const std::string& name) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic) != 0) {
    return Corrupt(name, "not a .npy array (bad magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Corrupt(name, "truncated header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    header_start = 12;
  } else {
    return absl::UnimplementedError(absl::StrCat("npy array '", name, "': format version ", major));
  }
  if (bytes.size() - header_start < header_len) return Corrupt(name, "truncated header");
  const std::string header = bytes.substr(header_start, header_len);

  NpyArray array;
  absl::StatusOr<std::string> descr = HeaderValue(header, "descr", name);
  if (!descr.ok()) return descr.status();
  array.dtype = std::string(absl::StripSuffix(absl::StripPrefix(*descr, "'"), "'"));
  if (!Dtypes().count(array.dtype)) {
    return absl::UnimplementedError(
        absl::StrCat("npy array '", name, "': unsupported dtype ", array.dtype));
  }
  absl::StatusOr<std::string> fortran = HeaderValue(header, "fortran_order", name);
  if (!fortran.ok()) return fortran.status();
  if (*fortran != "False") {
    return absl::UnimplementedError(absl::StrCat("npy array '", name, "' is in Fortran order"));
  }
  absl::StatusOr<std::string> shape = HeaderValue(header, "shape", name);
  if (!shape.ok()) return shape.status();
  const absl::string_view dims = absl::StripSuffix(absl::StripPrefix(*shape, "("), ")");
  for (absl::string_view dim : absl::StrSplit(dims, ',', absl::SkipWhitespace())) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(dim, &value) || value < 0) return Corrupt(name, "bad shape");
    array.shape.push_back(value);
  }
  const uint64_t expected =
      static_cast<uint64_t>(NumElements(array)) * Dtypes().at(array.dtype).size;
  if (bytes.size() - header_start - header_len != expected) {
    return Corrupt(name, absl::StrCat("holds ", bytes.size() - header_start - header_len,
                                      " data bytes, its shape needs ", expected));
  }
  array.data = bytes.substr(header_start + header_len);
  return array;
}

std::string SerializeNpy(const NpyArray& array) {
  std::string shape = absl::StrJoin(array.shape, ", ");
  if (array.shape.size() == 1) shape += ",";
  std::string header = absl::StrCat("{'descr': '", array.dtype,
                                    "', 'fortran_order': False, 'shape': (", shape, "), }");
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic, 6);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  return out + header + array.data;
}

absl::StatusOr<std::vector<int64_t>> AsInt64(const NpyArray& array) {
  const DtypeInfo& info = Dtypes().at(array.dtype);
  if (!info.is_signed_int && !info.is_unsigned_int) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer array, got dtype ", array.dtype));
  }
  std::vector<int64_t> out(NumElements(array));
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = array.data.data() + i * info.size;
    switch (info.size) {
      case 1: out[i] = info.is_signed_int ? Load<int8_t>(p) : Load<uint8_t>(p); break;
      case 2: out[i] = info.is_signed_int ? Load<int16_t>(p) : Load<uint16_t>(p); break;
      case 4: out[i] = info.is_signed_int ? Load<int32_t>(p) : Load<uint32_t>(p); break;
      default: out[i] = Load<int64_t>(p); break;
    }
  }
  return out;
}

absl::StatusOr<std::vector<float>> AsFloat32(const NpyArray& array) {
  const DtypeInfo& info = Dtypes().at(array.dtype);
  if (!info.is_float) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a float array, got dtype ", array.dtype));
  }
  std::vector<float> out(NumElements(array));
  for (size_t i = 0; i < out.size(); ++i) {
    const char* p = array.data.data() + i * info.size;
    out[i] = info.size == 4 ? Load<float>(p) : static_cast<float>(Load<double>(p));
  }
  return out;
}

NpyArray NpyFromInt64(std::vector<int64_t> shape, const std::vector<int64_t>& values) {
  return FromValues("<i8", std::move(shape), values);
}

NpyArray NpyFromFloat32(std::vector<int64_t> shape, const std::vector<float>& values) {
  return FromValues("<f4", std::move(shape), values);
}

}  // namespace codec::io
