#ifndef BACKENDS_IO_ZIP_WRITER_H_
#define BACKENDS_IO_ZIP_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace codec::io {

// Builds an uncompressed (stored) ZIP archive in memory, as numpy's
// np.savez writes .npz files. Archives are limited to 4 GiB (no ZIP64).
class ZipWriter {
 public:
  void Add(const std::string& name, std::string data);
  // The archive bytes; RESOURCE_EXHAUSTED past the 4 GiB limit.
  absl::StatusOr<std::string> Finish() &&;

 private:
  struct Entry {
    std::string name;
    std::string data;
  };
  std::vector<Entry> entries_;
};

// Writes `bytes` to `path`, replacing it; the error names the path.
absl::Status WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace codec::io

#endif  // BACKENDS_IO_ZIP_WRITER_H_
