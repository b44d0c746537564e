#ifndef BACKENDS_IO_ZIP_WRITER_H_
#define BACKENDS_IO_ZIP_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace codec::io {

// Builds an uncompressed (stored) ZIP archive in memory, as np.savez does.
// There is no ZIP64 support: archives are limited to 4 GiB and 65534 entries.
class ZipWriter {
 public:
  // Appends an entry; names are expected to be unique.
  void Add(const std::string& name, std::string data);

  // The archive bytes. RESOURCE_EXHAUSTED past the 4 GiB or entry-count
  // limits; INVALID_ARGUMENT for a name longer than 65535 bytes.
  absl::StatusOr<std::string> Finish() &&;

 private:
  struct Entry {
    std::string name;
    std::string data;
  };
  std::vector<Entry> entries_;
};

// Writes `bytes` to `path`, replacing it. Errors carry the errno-derived
// code (e.g. NOT_FOUND for a missing directory) and name the path.
absl::Status WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace codec::io

#endif  // BACKENDS_IO_ZIP_WRITER_H_
