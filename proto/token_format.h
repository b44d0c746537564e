#ifndef PROTO_TOKEN_FORMAT_H_
#define PROTO_TOKEN_FORMAT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/codes.h"
#include "codec/v1/codec.pb.h"

namespace codec::v1 {

// Frames [first, last) of the finest level of `codes`, with the matching
// frames of the coarser levels (level i holds one frame per
// finest / level_i.frames), as one TokenChunk. `first` and `last` must be
// multiples of the coarsest level's stride (or `last` the end). The chunk
// starting at frame 0 carries all the segment scales.
TokenChunk TokenChunkFromCodes(const Codes& codes, int64_t first, int64_t last);

// One chunk as Codes (levels, codebooks, frames and scales as sent), with
// the sizes checked: INVALID_ARGUMENT when a level's value count is not
// codebooks x frames or a count does not fit. The model's own check is
// Codes::Validate.
absl::StatusOr<Codes> CodesFromTokenChunk(const TokenChunk& chunk);

// Appends `chunk` to `codes`, level by level: INVALID_ARGUMENT when its level
// count, codebook counts or value counts do not fit the chunks before it.
absl::Status AppendTokenChunk(const TokenChunk& chunk, Codes& codes);

}  // namespace codec::v1

#endif  // PROTO_TOKEN_FORMAT_H_
