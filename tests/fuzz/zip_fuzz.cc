// The zip reader on arbitrary bytes: the directory, then every entry.

#include <cstdint>
#include <string>

#include "backends/io/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<codec::io::ZipReader> zip =
      codec::io::ZipReader::Open(std::string(reinterpret_cast<const char*>(data), size));
  if (!zip.ok()) return 0;
  for (const std::string& name : zip->names()) (void)zip->Read(name);
  return 0;
}
