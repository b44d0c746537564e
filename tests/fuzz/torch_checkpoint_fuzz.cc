// A whole torch.save checkpoint on arbitrary bytes: zip, pickle and the
// tensors built from its storages.

#include <cstdint>
#include <string>

#include "backends/io/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)codec::io::ParseTorchCheckpoint(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
