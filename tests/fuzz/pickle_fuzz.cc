// The checkpoint unpickler on arbitrary bytes.

#include <cstdint>
#include <string>

#include "backends/io/pickle_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)codec::io::UnpickleCheckpoint(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
