// Audio files (WAV and whatever libsndfile reads) on arbitrary bytes.

#include <cstdint>
#include <string>

#include "backends/io/wav.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)codec::io::ParseAudioFile(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  return 0;
}
