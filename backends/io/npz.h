#ifndef BACKENDS_IO_NPZ_H_
#define BACKENDS_IO_NPZ_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/io/npy.h"

namespace codec::io {

// The arrays of a numpy .npz file by name (without ".npy").
using NpzFile = std::map<std::string, NpyArray>;

// Reads np.savez and np.savez_compressed files; errors name the path.
absl::StatusOr<NpzFile> ReadNpz(const std::string& path);
// Writes an uncompressed .npz that numpy's np.load reads.
absl::Status WriteNpz(const std::string& path, const NpzFile& arrays);

}  // namespace codec::io

#endif  // BACKENDS_IO_NPZ_H_
