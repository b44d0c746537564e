#include "backends/io/npy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace codec::io {
namespace {

NpyArray RoundTrip(const NpyArray& array) {
  absl::StatusOr<NpyArray> parsed = ParseNpy(SerializeNpy(array), "round_trip");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.value_or(NpyArray{});
}

// `bytes` (a version 1.0 .npy) rewritten as version 2.0.
std::string AsVersion2(const std::string& bytes) {
  const size_t header_length = static_cast<uint8_t>(bytes[8]) | static_cast<uint8_t>(bytes[9]) << 8;
  std::string out = bytes.substr(0, 6) + std::string("\x02\x00", 2);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((header_length >> (8 * i)) & 0xFF));
  return out + bytes.substr(10);
}

// `bytes` with `from` replaced by `to` in the header, keeping the header
// length by taking the difference out of (or adding it to) the padding.
std::string EditHeader(std::string bytes, const std::string& from, const std::string& to) {
  const size_t newline = bytes.find('\n');
  bytes.replace(bytes.find(from), from.size(), to);
  if (to.size() > from.size()) {
    bytes.erase(newline, to.size() - from.size());
  } else {
    bytes.insert(newline - (from.size() - to.size()), from.size() - to.size(), ' ');
  }
  return bytes;
}

TEST(NpyTest, SerializesLikeNumpy) {
  // np.save(f, np.arange(6, dtype='<i8').reshape(2, 3)), numpy 1.24.
  const std::string expected_header =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
      "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') + "\n";
  const std::string bytes = SerializeNpy(NpyFromInt64({2, 3}, {0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(bytes.size(), 128u + 6 * 8);
  EXPECT_EQ(bytes.substr(0, 128), expected_header);
  EXPECT_EQ(bytes[128], 0);
  EXPECT_EQ(bytes[136], 1);
}

TEST(NpyTest, Int64ScalarRoundTrips) {
  const NpyArray scalar = NpyFromInt64({}, {-42});
  EXPECT_EQ(NumElements(scalar), 1);
  const std::string bytes = SerializeNpy(scalar);
  EXPECT_NE(bytes.find("'shape': (), }"), std::string::npos);
  EXPECT_EQ(bytes.size() % 64, 8u);
  const NpyArray parsed = RoundTrip(scalar);
  EXPECT_EQ(parsed.dtype, "<i8");
  EXPECT_TRUE(parsed.shape.empty());
  EXPECT_EQ(AsInt64(parsed).value(), std::vector<int64_t>{-42});
}

TEST(NpyTest, Int64MatrixRoundTrips) {
  const std::vector<int64_t> values = {1, -2, 3, int64_t{1} << 40, 0, -(int64_t{1} << 62)};
  const NpyArray parsed = RoundTrip(NpyFromInt64({3, 2}, values));
  EXPECT_EQ(parsed.dtype, "<i8");
  EXPECT_EQ(parsed.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(AsInt64(parsed).value(), values);
}

TEST(NpyTest, Float32MatrixRoundTrips) {
  const std::vector<float> values = {0.5f, -1.25f, 3.1415927f, 1e-30f, -0.0f, 65504.0f};
  const NpyArray parsed = RoundTrip(NpyFromFloat32({2, 3}, values));
  EXPECT_EQ(parsed.dtype, "<f4");
  EXPECT_EQ(parsed.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(AsFloat32(parsed).value(), values);
  EXPECT_EQ(AsInt64(parsed).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NpyTest, EmptyDimensionRoundTrips) {
  const NpyArray parsed = RoundTrip(NpyFromFloat32({0, 4}, {}));
  EXPECT_EQ(parsed.shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(NumElements(parsed), 0);
  EXPECT_TRUE(AsFloat32(parsed).value().empty());
  EXPECT_EQ(RoundTrip(NpyFromInt64({5}, {1, 2, 3, 4, 5})).shape, std::vector<int64_t>{5});
}

TEST(NpyTest, ReadsVersion2Headers) {
  absl::StatusOr<NpyArray> parsed =
      ParseNpy(AsVersion2(SerializeNpy(NpyFromInt64({2}, {7, 8}))), "v2");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(AsInt64(*parsed).value(), (std::vector<int64_t>{7, 8}));
}

TEST(NpyTest, ConvertsNarrowIntegersAndDoubles) {
  const NpyArray i2{"<i2", {2}, std::string("\xfe\xff\x03\x00", 4)};
  EXPECT_EQ(AsInt64(i2).value(), (std::vector<int64_t>{-2, 3}));
  const NpyArray u4{"<u4", {1}, std::string("\xff\xff\xff\xff", 4)};
  EXPECT_EQ(AsInt64(u4).value(), std::vector<int64_t>{4294967295});
  const NpyArray u1{"|u1", {2}, std::string("\xff\x01", 2)};
  EXPECT_EQ(AsInt64(u1).value(), (std::vector<int64_t>{255, 1}));
  const double d = -2.5;
  const NpyArray f8{"<f8", {}, std::string(reinterpret_cast<const char*>(&d), 8)};
  EXPECT_EQ(AsFloat32(f8).value(), std::vector<float>{-2.5f});
}

TEST(NpyTest, RejectsUnconvertibleValues) {
  const NpyArray huge{"<u8", {1}, std::string(8, '\xff')};
  EXPECT_EQ(AsInt64(huge).status().code(), absl::StatusCode::kInvalidArgument);
  const NpyArray flags{"|b1", {1}, std::string(1, '\x01')};
  EXPECT_EQ(AsInt64(flags).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AsFloat32(NpyFromInt64({1}, {1})).status().code(), absl::StatusCode::kInvalidArgument);
  const NpyArray short_data{"<f4", {2}, std::string(4, '\0')};
  EXPECT_EQ(AsFloat32(short_data).status().code(), absl::StatusCode::kDataLoss);
}

TEST(NpyTest, FortranOrderIsUnimplemented) {
  const std::string bytes =
      EditHeader(SerializeNpy(NpyFromFloat32({2, 2}, {1, 2, 3, 4})), "False", "True");
  absl::StatusOr<NpyArray> parsed = ParseNpy(bytes, "weights");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(parsed.status().message().find("'weights'"), std::string::npos) << parsed.status();
}

TEST(NpyTest, BigEndianIsUnimplemented) {
  const std::string bytes = EditHeader(SerializeNpy(NpyFromFloat32({1}, {1})), "<f4", ">f4");
  EXPECT_EQ(ParseNpy(bytes, "x").status().code(), absl::StatusCode::kUnimplemented);
}

TEST(NpyTest, MalformedHeadersAreDataLoss) {
  const std::string good = SerializeNpy(NpyFromInt64({2}, {1, 2}));
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"'descr'", "'descX'"},   // Unknown key, 'descr' missing.
           {"(2,)", "(2)"},          // An int, not a tuple.
           {"(2,)", "(-2,)"},        // Negative.
           {"(2,)", "(2,"},          // Unterminated tuple.
           {"False", "Nope"},        // Not a bool.
           {"}", ""},                // Unterminated dict.
           {", 'shape': (2,)", ""},  // Missing key.
           {"'descr'", "'shape'"},   // Duplicate key.
       }) {
    EXPECT_EQ(ParseNpy(EditHeader(good, from, to), "a").status().code(),
              absl::StatusCode::kDataLoss)
        << to;
  }
  EXPECT_EQ(ParseNpy("not numpy at all", "a").status().code(), absl::StatusCode::kDataLoss);
}

TEST(NpyTest, EveryTruncationIsDataLoss) {
  const std::string bytes = SerializeNpy(NpyFromFloat32({2, 3}, {1, 2, 3, 4, 5, 6}));
  for (size_t size = 0; size < bytes.size(); ++size) {
    const absl::StatusOr<NpyArray> parsed = ParseNpy(bytes.substr(0, size), "cut");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << "size " << size;
  }
  EXPECT_EQ(ParseNpy(bytes + "x", "long").status().code(), absl::StatusCode::kDataLoss);
}

TEST(NpyTest, OverflowingShapeIsDataLoss) {
  // (2^61 + 1) * 8 bytes wraps around to the 8 bytes present.
  const std::string bytes =
      EditHeader(SerializeNpy(NpyFromInt64({1}, {1})), "(1,)", "(2305843009213693953,)");
  EXPECT_EQ(ParseNpy(bytes, "huge").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace codec::io
