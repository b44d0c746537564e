#include "backends/io/zip_writer.h"

#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace codec::io {
namespace {

constexpr uint64_t kMax16 = 0xFFFF;
constexpr uint64_t kMax32 = 0xFFFFFFFF;  // Also the ZIP64 marker, so never written.

void Put(std::string& out, uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

absl::Status TooLarge() { return absl::ResourceExhaustedError("zip archive exceeds 4 GiB"); }

}  // namespace

void ZipWriter::Add(const std::string& name, std::string data) {
  entries_.push_back({name, std::move(data)});
}

absl::StatusOr<std::string> ZipWriter::Finish() && {
  if (entries_.size() >= kMax16) {
    return absl::ResourceExhaustedError(
        absl::StrCat("zip archive has ", entries_.size(), " entries, the limit is 65534"));
  }
  std::string out, directory;
  for (const Entry& entry : entries_) {
    if (entry.name.size() > kMax16) {
      return absl::InvalidArgumentError(absl::StrCat("zip entry name '", entry.name.substr(0, 64),
                                                     "...' is longer than 65535 bytes"));
    }
    const uint64_t offset = out.size();
    if (entry.data.size() >= kMax32 || offset >= kMax32) return TooLarge();
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(entry.data.data()),
                            static_cast<uInt>(entry.data.size()));
    // Fields shared by the local header and the central directory entry:
    // version needed (2.0), flags, method (stored), time, date (1980-01-01),
    // CRC, compressed and uncompressed sizes, name length.
    std::string common;
    Put(common, 20, 2);
    Put(common, 0, 2);
    Put(common, 0, 2);
    Put(common, 0, 2);
    Put(common, 0x21, 2);
    Put(common, crc, 4);
    Put(common, entry.data.size(), 4);
    Put(common, entry.data.size(), 4);
    Put(common, entry.name.size(), 2);

    Put(out, 0x04034b50, 4);
    out += common;
    Put(out, 0, 2);  // Extra field length.
    out += entry.name;
    out += entry.data;

    Put(directory, 0x02014b50, 4);
    Put(directory, 20, 2);  // Version made by.
    directory += common;
    Put(directory, 0, 2);  // Extra field length.
    Put(directory, 0, 2);  // Comment length.
    Put(directory, 0, 2);  // Disk number.
    Put(directory, 0, 2);  // Internal attributes.
    Put(directory, 0, 4);  // External attributes.
    Put(directory, offset, 4);
    directory += entry.name;
  }
  const uint64_t directory_offset = out.size();
  if (directory_offset >= kMax32 || directory.size() >= kMax32) return TooLarge();
  out += directory;
  Put(out, 0x06054b50, 4);
  Put(out, 0, 4);  // Disk numbers.
  Put(out, entries_.size(), 2);
  Put(out, entries_.size(), 2);
  Put(out, directory.size(), 4);
  Put(out, directory_offset, 4);
  Put(out, 0, 2);  // Comment length.
  return out;
}

absl::Status WriteFileBytes(const std::string& path, const std::string& bytes) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    const std::string message = absl::StrCat("cannot write '", path, "'");
    return errno != 0 ? absl::ErrnoToStatus(errno, message) : absl::InternalError(message);
  }
  return absl::OkStatus();
}

}  // namespace codec::io
