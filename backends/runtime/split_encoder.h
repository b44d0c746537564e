#ifndef BACKENDS_RUNTIME_SPLIT_ENCODER_H_
#define BACKENDS_RUNTIME_SPLIT_ENCODER_H_

#include "absl/status/statusor.h"
#include "backends/streaming/network_streams.h"

namespace codec {

// A codec whose encoder layers and quantiser can be run apart, so that each
// is held to the reference on its own (tests/backends/parity_test): the
// quantiser on the reference's latent must give exactly its codes, while
// the encoder's latent can only equal the reference's to rounding, which
// moves with the BLAS and the thread count.
class SplitEncoder {
 public:
  virtual ~SplitEncoder() = default;

  // The loaded model's encoder, as a stream of layers, and its quantiser
  // of the first n_q codebooks; FAILED_PRECONDITION when not loaded.
  virtual absl::StatusOr<nn::EncodeStreamParts> EncoderParts(int n_q) const = 0;
};

}  // namespace codec

#endif  // BACKENDS_RUNTIME_SPLIT_ENCODER_H_
