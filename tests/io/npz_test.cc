#include "backends/io/npz.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "backends/io/zip_writer.h"

namespace codec::io {
namespace {

constexpr char kExpected[] = "tests/fixtures/encodec24_tiny_bw6/expected.npz";
// np.savez_compressed(path, ints=np.arange(10, dtype=np.int32).reshape(2, 5),
//     doubles=np.float64([1.5, -2.5]), scalar=np.int64(42), bytes=np.uint8([255, 0]))
constexpr char kCompressed[] = "tests/fixtures/io/savez_compressed.npz";

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  EXPECT_TRUE(WriteFileBytes(path, bytes).ok());
  return path;
}

TEST(NpzTest, ReadsReferenceFixture) {
  absl::StatusOr<NpzFile> npz = ReadNpz(kExpected);
  ASSERT_TRUE(npz.ok()) << npz.status();
  ASSERT_EQ(npz->size(), 3u);

  const NpyArray& codes = npz->at("codes");
  EXPECT_EQ(codes.dtype, "<i8");
  EXPECT_EQ(codes.shape, (std::vector<int64_t>{8, 195}));
  const std::vector<int64_t> code_values = AsInt64(codes).value();
  EXPECT_EQ(std::vector<int64_t>(code_values.begin(), code_values.begin() + 5),
            (std::vector<int64_t>{185, 408, 875, 361, 134}));
  EXPECT_EQ(std::vector<int64_t>(code_values.end() - 3, code_values.end()),
            (std::vector<int64_t>{2, 21, 2}));

  // Values as numpy prints them (shortest round-trip float32 repr).
  const NpyArray& decoded = npz->at("decoded");
  EXPECT_EQ(decoded.dtype, "<f4");
  EXPECT_EQ(decoded.shape, (std::vector<int64_t>{1, 62400}));
  const std::vector<float> audio = AsFloat32(decoded).value();
  EXPECT_EQ(audio[0], 0.14522217f);
  EXPECT_EQ(audio[1000], 0.16132654f);
  EXPECT_EQ(audio[62399], 0.17279755f);

  const NpyArray& latent = npz->at("latent");
  EXPECT_EQ(latent.dtype, "<f4");
  EXPECT_EQ(latent.shape, (std::vector<int64_t>{16, 195}));
  const std::vector<float> latent_values = AsFloat32(latent).value();
  EXPECT_EQ(latent_values[0], -0.016735433f);
  EXPECT_EQ(latent_values[16 * 195 - 1], 0.10706308f);
}

TEST(NpzTest, ReadsSavezCompressed) {
  absl::StatusOr<NpzFile> npz = ReadNpz(kCompressed);
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_EQ(npz->at("ints").dtype, "<i4");
  EXPECT_EQ(npz->at("ints").shape, (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(AsInt64(npz->at("ints")).value(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(AsFloat32(npz->at("doubles")).value(), (std::vector<float>{1.5f, -2.5f}));
  EXPECT_TRUE(npz->at("scalar").shape.empty());
  EXPECT_EQ(AsInt64(npz->at("scalar")).value(), std::vector<int64_t>{42});
  EXPECT_EQ(npz->at("bytes").dtype, "|u1");
  EXPECT_EQ(AsInt64(npz->at("bytes")).value(), (std::vector<int64_t>{255, 0}));
}

TEST(NpzTest, WriteThenReadRoundTrips) {
  const NpzFile arrays = {
      {"num_samples", NpyFromInt64({}, {62400})},
      {"codes", NpyFromInt64({2, 3}, {1, 2, 3, 1023, 0, 7})},
      {"scales", NpyFromFloat32({2}, {0.25f, -8.5f})},
      {"empty", NpyFromFloat32({3, 0}, {})},
  };
  const std::string path = TempPath("round_trip.npz");
  ASSERT_TRUE(WriteNpz(path, arrays).ok());
  absl::StatusOr<NpzFile> read = ReadNpz(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), arrays.size());
  for (const auto& [name, array] : arrays) {
    const NpyArray& back = read->at(name);
    EXPECT_EQ(back.dtype, array.dtype) << name;
    EXPECT_EQ(back.shape, array.shape) << name;
    EXPECT_EQ(back.data, array.data) << name;
  }
}

TEST(NpzTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadNpz(TempPath("absent.npz")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(WriteNpz(TempPath("no/such/dir.npz"), {}).code(), absl::StatusCode::kNotFound);
}

TEST(NpzTest, TruncatedFileIsDataLoss) {
  const std::string bytes = ReadAll(kExpected);
  const std::string path = WriteTemp("half.npz", bytes.substr(0, bytes.size() / 2));
  const absl::Status status = ReadNpz(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

TEST(NpzTest, FlippedDataByteIsDataLoss) {
  std::string bytes = ReadAll(kExpected);
  bytes[bytes.size() / 2] ^= 0x5A;  // Inside 'decoded': its CRC no longer matches.
  EXPECT_EQ(ReadNpz(WriteTemp("flipped.npz", bytes)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(NpzTest, AnyFlippedByteFailsCleanly) {
  const std::string path = TempPath("small.npz");
  ASSERT_TRUE(
      WriteNpz(path, {{"a", NpyFromInt64({2}, {1, 2})}, {"b", NpyFromFloat32({}, {3})}}).ok());
  const std::string bytes = ReadAll(path);
  const std::set<absl::StatusCode> allowed = {absl::StatusCode::kOk, absl::StatusCode::kDataLoss,
                                              absl::StatusCode::kUnimplemented};
  int failures = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string corrupt = bytes;
    corrupt[i] ^= 0xFF;
    const absl::Status status = ReadNpz(WriteTemp("corrupt.npz", corrupt)).status();
    EXPECT_TRUE(allowed.count(status.code())) << "byte " << i << ": " << status;
    failures += !status.ok();
  }
  // Only fields nobody checks (times, attributes, ...) may change unnoticed.
  EXPECT_GT(failures, static_cast<int>(bytes.size()) * 3 / 4);
}

TEST(NpzTest, CorruptArrayInsideValidZipIsDataLoss) {
  ZipWriter zip;
  zip.Add("codes.npy", SerializeNpy(NpyFromInt64({4}, {1, 2, 3, 4})).substr(0, 130));
  const std::string path = WriteTemp("bad_array.npz", std::move(zip).Finish().value());
  const absl::Status status = ReadNpz(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("'codes'"), std::string::npos) << status;
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

}  // namespace
}  // namespace codec::io
