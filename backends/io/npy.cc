#include "backends/io/npy.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "backends/core/status_macros.h"

// Element bytes are copied to and from host values as they are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy I/O assumes a little-endian host");

namespace codec::io {
namespace {

constexpr absl::string_view kMagic("\x93NUMPY", 6);
constexpr size_t kAlign = 64;
// np.save pads the header so the first axis can grow to this many digits.
constexpr size_t kGrowthAxisMaxDigits = 21;

// A dtype descr split into kind ('b', 'i', 'u', 'f' or 'c') and item size.
struct Dtype {
  char kind;
  int64_t size;
};

absl::StatusOr<Dtype> ParseDtype(const std::string& descr) {
  if (!descr.empty() && descr[0] == '>') {
    return absl::UnimplementedError(absl::StrCat("big-endian dtype '", descr, "'"));
  }
  int64_t size = 0;
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|') ||
      absl::string_view("biufc").find(descr[1]) == absl::string_view::npos ||
      descr.find_first_not_of("0123456789", 2) != std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(descr).substr(2), &size) || size == 0) {
    return absl::UnimplementedError(absl::StrCat("unsupported dtype '", descr, "'"));
  }
  return Dtype{descr[1], size};
}

std::string ShapeRepr(const std::vector<int64_t>& shape) {
  return absl::StrCat("(", absl::StrJoin(shape, ", "), shape.size() == 1 ? ",)" : ")");
}

// The dtype of `array` after checking that its data size matches its shape.
absl::StatusOr<Dtype> CheckLayout(const NpyArray& array) {
  ASSIGN_OR_RETURN(const Dtype dtype, ParseDtype(array.dtype));
  int64_t bytes = dtype.size;
  for (int64_t dim : array.shape) {
    if (dim < 0 || (dim > 0 && bytes > std::numeric_limits<int64_t>::max() / dim)) {
      return absl::DataLossError(absl::StrCat("invalid shape ", ShapeRepr(array.shape)));
    }
    bytes *= dim;
  }
  if (array.data.size() != static_cast<uint64_t>(bytes)) {
    return absl::DataLossError(absl::StrCat("holds ", array.data.size(), " data bytes but dtype '",
                                            array.dtype, "' and shape ", ShapeRepr(array.shape),
                                            " need ", bytes));
  }
  return dtype;
}

// Tokens of numpy's header, a Python dict literal such as
// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
// Each method skips leading whitespace; on failure it consumes nothing else.
class HeaderLexer {
 public:
  explicit HeaderLexer(absl::string_view text) : rest_(text) {}

  bool Consume(absl::string_view token) {
    rest_ = absl::StripLeadingAsciiWhitespace(rest_);
    return absl::ConsumePrefix(&rest_, token);
  }
  bool String(std::string* out) {
    rest_ = absl::StripLeadingAsciiWhitespace(rest_);
    if (rest_.empty() || (rest_[0] != '\'' && rest_[0] != '"')) return false;
    const size_t end = rest_.find(rest_[0], 1);
    if (end == absl::string_view::npos) return false;
    *out = std::string(rest_.substr(1, end - 1));
    rest_.remove_prefix(end + 1);
    return true;
  }
  bool Int(int64_t* out) {
    rest_ = absl::StripLeadingAsciiWhitespace(rest_);
    size_t n = 0;
    while (n < rest_.size() && absl::ascii_isdigit(rest_[n])) ++n;
    if (n == 0 || !absl::SimpleAtoi(rest_.substr(0, n), out)) return false;
    rest_.remove_prefix(n);
    return true;
  }
  bool AtEnd() {
    rest_ = absl::StripLeadingAsciiWhitespace(rest_);
    return rest_.empty();
  }

 private:
  absl::string_view rest_;
};

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// A Python tuple of non-negative ints: "()", "(5,)", "(2, 3)".
bool ParseShape(HeaderLexer& lexer, std::vector<int64_t>* shape) {
  if (!lexer.Consume("(")) return false;
  bool comma = false;
  while (!lexer.Consume(")")) {
    int64_t dim = 0;
    if ((!shape->empty() && !comma) || !lexer.Int(&dim)) return false;
    shape->push_back(dim);
    comma = lexer.Consume(",");
  }
  return shape->size() != 1 || comma;
}

absl::StatusOr<Header> ParseHeader(absl::string_view text) {
  const absl::Status malformed = absl::DataLossError(
      absl::StrCat("malformed header \"", absl::CHexEscape(text.substr(0, 200)), "\""));
  HeaderLexer lexer(text);
  Header header;
  std::set<std::string> keys;
  if (!lexer.Consume("{")) return malformed;
  bool more = !lexer.Consume("}");
  while (more) {
    std::string key;
    if (!lexer.String(&key) || !lexer.Consume(":") || !keys.insert(key).second) return malformed;
    if (key == "descr") {
      if (lexer.Consume("["))
        return absl::UnimplementedError("structured dtypes are not supported");
      if (!lexer.String(&header.descr)) return malformed;
    } else if (key == "fortran_order") {
      header.fortran_order = lexer.Consume("True");
      if (!header.fortran_order && !lexer.Consume("False")) return malformed;
    } else if (key != "shape" || !ParseShape(lexer, &header.shape)) {
      return malformed;
    }
    if (lexer.Consume(",")) {
      more = !lexer.Consume("}");
    } else if (lexer.Consume("}")) {
      more = false;
    } else {
      return malformed;
    }
  }
  if (!lexer.AtEnd() || keys.size() != 3) return malformed;
  return header;
}

absl::StatusOr<NpyArray> ParseNpyUnnamed(const std::string& bytes) {
  if (bytes.size() < 8 || absl::string_view(bytes).substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a .npy file (bad magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return absl::UnimplementedError(absl::StrCat("format version ", major, ".", minor));
  }
  const size_t length_width = major == 1 ? 2 : 4;
  const size_t header_start = 8 + length_width;
  if (bytes.size() < header_start) return absl::DataLossError("truncated header");
  size_t header_length = 0;
  for (size_t i = 0; i < length_width; ++i) {
    header_length |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
  }
  if (bytes.size() - header_start < header_length) {
    return absl::DataLossError(
        absl::StrCat("truncated header (", header_length, " bytes declared)"));
  }
  ASSIGN_OR_RETURN(Header header,
                   ParseHeader(absl::string_view(bytes).substr(header_start, header_length)));
  if (header.fortran_order)
    return absl::UnimplementedError("Fortran-order arrays are not supported");
  NpyArray array{std::move(header.descr), std::move(header.shape),
                 bytes.substr(header_start + header_length)};
  RETURN_IF_ERROR(CheckLayout(array).status());
  return array;
}

template <typename From, typename To>
void Convert(const std::string& data, std::vector<To>& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    From value;
    std::memcpy(&value, data.data() + i * sizeof(From), sizeof(From));
    out[i] = static_cast<To>(value);
  }
}

template <typename T>
NpyArray FromValues(const char* dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
  NpyArray array{dtype, std::move(shape), std::string(values.size() * sizeof(T), '\0')};
  if (!values.empty()) std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

}  // namespace

int64_t NumElements(const NpyArray& array) {
  int64_t n = 1;
  for (int64_t dim : array.shape) n *= dim;
  return n;
}

absl::StatusOr<NpyArray> ParseNpy(const std::string& bytes, const std::string& name_for_errors) {
  absl::StatusOr<NpyArray> array = ParseNpyUnnamed(bytes);
  if (!array.ok()) {
    return absl::Status(array.status().code(), absl::StrCat("npy array '", name_for_errors,
                                                            "': ", array.status().message()));
  }
  return array;
}

std::string SerializeNpy(const NpyArray& array) {
  std::string header =
      absl::StrCat("{'descr': '", array.dtype,
                   "', 'fortran_order': False, 'shape': ", ShapeRepr(array.shape), ", }");
  if (!array.shape.empty()) {
    const size_t digits = absl::StrCat(array.shape[0]).size();
    header.append(kGrowthAxisMaxDigits - std::min(digits, kGrowthAxisMaxDigits), ' ');
  }
  // Spaces and a final newline align the data; the length field is 2 bytes
  // (version 1.0) unless the header needs 4 (version 2.0).
  const auto padded_length = [&header](size_t length_width) {
    const size_t used = kMagic.size() + 2 + length_width + header.size() + 1;
    return header.size() + 1 + kAlign - used % kAlign;
  };
  const size_t length_width = padded_length(2) <= 0xFFFF ? 2 : 4;
  const size_t header_length = padded_length(length_width);
  header.append(header_length - header.size() - 1, ' ');
  header.push_back('\n');

  std::string out(kMagic);
  out.push_back(length_width == 2 ? '\x01' : '\x02');
  out.push_back('\x00');
  for (size_t i = 0; i < length_width; ++i) {
    out.push_back(static_cast<char>((header_length >> (8 * i)) & 0xFF));
  }
  return absl::StrCat(out, header, array.data);
}

absl::StatusOr<std::vector<int64_t>> AsInt64(const NpyArray& array) {
  ASSIGN_OR_RETURN(const Dtype dtype, CheckLayout(array));
  std::vector<int64_t> out(NumElements(array));
  const bool is_signed = dtype.kind == 'i';
  if (is_signed || dtype.kind == 'u') {
    switch (dtype.size) {
      case 1:
        is_signed ? Convert<int8_t>(array.data, out) : Convert<uint8_t>(array.data, out);
        return out;
      case 2:
        is_signed ? Convert<int16_t>(array.data, out) : Convert<uint16_t>(array.data, out);
        return out;
      case 4:
        is_signed ? Convert<int32_t>(array.data, out) : Convert<uint32_t>(array.data, out);
        return out;
      case 8:
        Convert<int64_t>(array.data, out);
        if (is_signed) return out;
        // A <u8 value above INT64_MAX reads as negative.
        for (size_t i = 0; i < out.size(); ++i) {
          if (out[i] < 0) {
            return absl::InvalidArgumentError(absl::StrCat("element ", i, " of a <u8 array (",
                                                           static_cast<uint64_t>(out[i]),
                                                           ") exceeds INT64_MAX"));
          }
        }
        return out;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("expected an integer array, got dtype '", array.dtype, "'"));
}

absl::StatusOr<std::vector<float>> AsFloat32(const NpyArray& array) {
  ASSIGN_OR_RETURN(const Dtype dtype, CheckLayout(array));
  std::vector<float> out(NumElements(array));
  if (dtype.kind == 'f' && dtype.size == 4) {
    Convert<float>(array.data, out);
  } else if (dtype.kind == 'f' && dtype.size == 8) {
    Convert<double>(array.data, out);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a <f4 or <f8 array, got dtype '", array.dtype, "'"));
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
