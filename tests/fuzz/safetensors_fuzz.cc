// The safetensors reader on arbitrary bytes.

#include <cstdint>
#include <string>

#include "backends/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)codec::io::ParseSafetensors(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
