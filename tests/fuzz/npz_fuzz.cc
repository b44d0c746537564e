// numpy .npz (zip of .npy) and, on the same bytes, a bare .npy.

#include <cstdint>
#include <string>

#include "backends/io/npy.h"
#include "backends/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)codec::io::ParseNpy(bytes, "fuzz");
  (void)codec::io::ParseNpz(bytes);
  return 0;
}
