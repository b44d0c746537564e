#ifndef BACKENDS_IO_READ_FILE_H_
#define BACKENDS_IO_READ_FILE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace codec::io {

// The most bytes ReadFileBytes reads unless told otherwise: above every
// published checkpoint, below what a 2-core serving box should hold twice.
inline constexpr int64_t kMostFileBytes = int64_t{8} << 30;

// Reads a whole regular file into memory. Paths come from clients, so
// anything else is refused before a byte is read: NOT_FOUND when nothing is
// there, FAILED_PRECONDITION for a FIFO, device, socket or folder (a FIFO
// would block the reader until some writer appears), RESOURCE_EXHAUSTED
// above `max_bytes`, DATA_LOSS when reading fails.
// The cap for key, certificate and token files: small, and secret, so one
// that is large is a wrong path rather than a file to hold.
inline constexpr int64_t kMostCredentialFileBytes = int64_t{1} << 20;

absl::StatusOr<std::string> ReadFileBytes(const std::string& path,
                                          int64_t max_bytes = kMostFileBytes);

}  // namespace codec::io

#endif  // BACKENDS_IO_READ_FILE_H_
