#ifndef PROTO_TOKEN_FORMAT_H_
#define PROTO_TOKEN_FORMAT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/codes.h"
#include "codec/v1/codec.pb.h"

namespace codec::v1 {

// `codes` as one TokenChunk (levels, codebook-major values, scales); slice
// with SliceCodes for part of a stream.
TokenChunk TokenChunkFromCodes(const Codes& codes);

// One chunk as Codes (levels, codebooks, frames and scales as sent), with
// the sizes checked: INVALID_ARGUMENT when a level's value count is not
// codebooks x frames or a count does not fit. The model's own check is
// Codes::Validate.
absl::StatusOr<Codes> CodesFromTokenChunk(const TokenChunk& chunk);

}  // namespace codec::v1

#endif  // PROTO_TOKEN_FORMAT_H_
