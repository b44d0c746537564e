#ifndef BACKENDS_IO_ZIP_READER_H_
#define BACKENDS_IO_ZIP_READER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace codec::io {

// Reads a whole ZIP archive (the container of torch.save checkpoints and of
// numpy .npz files) held in memory.
//
// Supports stored and deflated entries and ZIP64 sizes/offsets. Every
// structural problem (truncation, bad signatures, CRC mismatch, entries
// pointing outside the file) is a DATA_LOSS error naming the entry. An
// archive of more than kMostZipEntries entries, or a deflated entry that
// would inflate above kMostInflatedBytes or more than kMostInflateRatio
// times its compressed size (past the first MiB), is RESOURCE_EXHAUSTED
// before anything is inflated.
inline constexpr uint64_t kMostZipEntries = 1 << 16;
inline constexpr uint64_t kMostInflatedBytes = uint64_t{1} << 31;
inline constexpr uint64_t kMostInflateRatio = 256;

class ZipReader {
 public:
  // Parses the central directory of `bytes`.
  static absl::StatusOr<ZipReader> Open(std::string bytes);
  // Reads the file at `path` and parses it.
  static absl::StatusOr<ZipReader> OpenFile(const std::string& path);

  // Entry names in archive order.
  const std::vector<std::string>& names() const { return names_; }
  bool Contains(const std::string& name) const { return entries_.count(name) > 0; }

  // The uncompressed bytes of entry `name` (NOT_FOUND when absent).
  absl::StatusOr<std::string> Read(const std::string& name) const;

 private:
  struct Entry {
    uint16_t method = 0;
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
  };

  std::string bytes_;
  std::vector<std::string> names_;
  std::map<std::string, Entry> entries_;
};

}  // namespace codec::io

#endif  // BACKENDS_IO_ZIP_READER_H_
