#ifndef BACKENDS_IO_NPZ_H_
#define BACKENDS_IO_NPZ_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/io/npy.h"

namespace codec::io {

// The arrays of a numpy .npz file, keyed by entry name without ".npy".
using NpzFile = std::map<std::string, NpyArray>;

// Reads a file written by np.savez or np.savez_compressed (stored or
// deflated entries); entries not named *.npy are ignored. A missing file is
// NOT_FOUND; a corrupt archive or array DATA_LOSS. Errors name the path.
absl::StatusOr<NpzFile> ReadNpz(const std::string& path);

// The same, of a file's bytes in memory.
absl::StatusOr<NpzFile> ParseNpz(std::string bytes);

// Writes `arrays` as an uncompressed .npz, as np.savez does. Each array
// must be consistent (data size matching dtype and shape).
absl::Status WriteNpz(const std::string& path, const NpzFile& arrays);

}  // namespace codec::io

#endif  // BACKENDS_IO_NPZ_H_
