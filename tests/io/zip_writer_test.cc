#include "backends/io/zip_writer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "backends/io/read_file.h"
#include "backends/io/zip_reader.h"

namespace codec::io {
namespace {

TEST(ZipWriterTest, ZipReaderReadsWhatItWrites) {
  ZipWriter writer;
  writer.Add("b/second.bin", std::string("\x00\x01\xff", 3));
  writer.Add("first.txt", "hello");
  writer.Add("empty", "");
  absl::StatusOr<std::string> archive = std::move(writer).Finish();
  ASSERT_TRUE(archive.ok()) << archive.status();
  absl::StatusOr<ZipReader> reader = ZipReader::Open(*archive);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->names(), (std::vector<std::string>{"b/second.bin", "first.txt", "empty"}));
  EXPECT_EQ(reader->Read("b/second.bin").value(), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(reader->Read("first.txt").value(), "hello");
  EXPECT_EQ(reader->Read("empty").value(), "");
}

TEST(ZipWriterTest, EmptyArchiveIsAnEndRecord) {
  const std::string archive = ZipWriter().Finish().value();
  EXPECT_EQ(archive.size(), 22u);
  EXPECT_TRUE(ZipReader::Open(archive).value().names().empty());
}

TEST(ZipWriterTest, RejectsWhatTheFormatCannotHold) {
  ZipWriter long_name;
  long_name.Add(std::string(65536, 'n'), "x");
  EXPECT_EQ(std::move(long_name).Finish().status().code(), absl::StatusCode::kInvalidArgument);
  ZipWriter many;
  for (int i = 0; i < 65535; ++i) many.Add("e", "");
  EXPECT_EQ(std::move(many).Finish().status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ZipWriterTest, WriteFileBytesNamesThePath) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "bytes.bin").string();
  ASSERT_TRUE(WriteFileBytes(path, "abc").ok());
  EXPECT_EQ(ReadFileBytes(path).value(), "abc");
  const std::string bad = path + "/not_a_dir/x";
  const absl::Status status = WriteFileBytes(bad, "abc");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(bad), std::string::npos) << status;
}

}  // namespace
}  // namespace codec::io
