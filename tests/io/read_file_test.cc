#include "backends/io/read_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace codec::io {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

TEST(ReadFileBytesTest, ReadsARegularFileWhole) {
  const std::string path = TempPath("regular.bin");
  const std::string content("ab\0cd", 5);
  std::ofstream(path, std::ios::binary) << content;
  const absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, content);
}

TEST(ReadFileBytesTest, RefusesWhatIsNotThere) {
  EXPECT_EQ(ReadFileBytes(TempPath("missing")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileBytes(TempPath("missing/below")).status().code(), absl::StatusCode::kNotFound);
}

// A FIFO would block a plain open until a writer comes: refused at once
// (the test would hang, and time out, otherwise).
TEST(ReadFileBytesTest, RefusesAFifoWithoutWaiting) {
  const std::string path = TempPath("fifo");
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  const absl::Status status = ReadFileBytes(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("not a regular file"), std::string::npos) << status;
}

TEST(ReadFileBytesTest, RefusesAFolder) {
  const absl::Status status = ReadFileBytes(TempPath("")).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST(ReadFileBytesTest, RefusesAFileAboveTheCap) {
  const std::string path = TempPath("big.bin");
  std::ofstream(path, std::ios::binary) << std::string(100, 'x');
  EXPECT_TRUE(ReadFileBytes(path, /*max_bytes=*/100).ok());
  const absl::Status status = ReadFileBytes(path, /*max_bytes=*/99).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
}

}  // namespace
}  // namespace codec::io
