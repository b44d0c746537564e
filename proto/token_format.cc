#include "proto/token_format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace codec::v1 {

TokenChunk TokenChunkFromCodes(const Codes& codes) {
  TokenChunk chunk;
  for (const CodeLevel& level : codes.levels) {
    TokenLevel* out = chunk.add_levels();
    out->set_num_codebooks(level.num_codebooks);
    out->set_frames(level.frames);
    out->mutable_values()->Add(level.values.begin(), level.values.end());
  }
  chunk.mutable_scales()->Add(codes.scales.begin(), codes.scales.end());
  return chunk;
}

absl::StatusOr<Codes> CodesFromTokenChunk(const TokenChunk& chunk) {
  Codes codes;
  for (int l = 0; l < chunk.levels_size(); ++l) {
    const TokenLevel& in = chunk.levels(l);
    const uint64_t values = static_cast<uint64_t>(in.values_size());
    // frames <= values / codebooks keeps codebooks x frames from overflowing.
    if (in.num_codebooks() == 0 || in.frames() > values / in.num_codebooks() ||
        in.num_codebooks() * in.frames() != values) {
      return absl::InvalidArgumentError(absl::StrCat("token level ", l, " holds ", values,
                                                     " values for ", in.num_codebooks(),
                                                     " codebooks x ", in.frames(), " frames"));
    }
    codes.levels.push_back(CodeLevel{static_cast<int>(in.num_codebooks()),
                                     static_cast<int64_t>(in.frames()),
                                     {in.values().begin(), in.values().end()}});
  }
  codes.scales.assign(chunk.scales().begin(), chunk.scales().end());
  return codes;
}

}  // namespace codec::v1
