#include "proto/token_format.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace codec::v1 {

TokenChunk TokenChunkFromCodes(const Codes& codes, int64_t first, int64_t last) {
  const int64_t finest = codes.levels.back().frames;
  TokenChunk chunk;
  chunk.set_start_frame(first);
  for (const CodeLevel& level : codes.levels) {
    const int64_t stride = finest / level.frames;
    const int64_t begin = first / stride, end = std::min(level.frames, last / stride);
    TokenLevel* out = chunk.add_levels();
    out->set_num_codebooks(level.num_codebooks);
    out->set_frames(end - begin);
    for (int k = 0; k < level.num_codebooks; ++k) {
      out->mutable_values()->Add(level.values.begin() + k * level.frames + begin,
                                 level.values.begin() + k * level.frames + end);
    }
  }
  if (first == 0) chunk.mutable_scales()->Add(codes.scales.begin(), codes.scales.end());
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

absl::Status AppendTokenChunk(const TokenChunk& chunk, Codes& codes) {
  if (codes.levels.empty()) codes.levels.resize(chunk.levels_size());
  if (static_cast<size_t>(chunk.levels_size()) != codes.levels.size()) {
    return absl::InvalidArgumentError(absl::StrCat("token chunk has ", chunk.levels_size(),
                                                   " levels, earlier chunks had ",
                                                   codes.levels.size()));
  }
  for (int l = 0; l < chunk.levels_size(); ++l) {
    const TokenLevel& in = chunk.levels(l);
    CodeLevel& level = codes.levels[l];
    if (in.num_codebooks() == 0 ||
        static_cast<uint64_t>(in.values_size()) != in.num_codebooks() * in.frames()) {
      return absl::InvalidArgumentError(absl::StrCat("token level ", l, " holds ", in.values_size(),
                                                     " values for ", in.num_codebooks(),
                                                     " codebooks x ", in.frames(), " frames"));
    }
    if (level.num_codebooks != 0 && level.num_codebooks != static_cast<int>(in.num_codebooks())) {
      return absl::InvalidArgumentError(absl::StrCat("token level ", l, " changes from ",
                                                     level.num_codebooks, " to ",
                                                     in.num_codebooks(), " codebooks"));
    }
    // Codebook-major: splice each codebook's new frames after its old ones.
    std::vector<uint32_t> merged;
    merged.reserve(level.values.size() + in.values_size());
    for (uint32_t k = 0; k < in.num_codebooks(); ++k) {
      if (level.frames > 0) {
        merged.insert(merged.end(), level.values.begin() + k * level.frames,
                      level.values.begin() + (k + 1) * level.frames);
      }
      merged.insert(merged.end(), in.values().begin() + k * in.frames(),
                    in.values().begin() + (k + 1) * in.frames());
    }
    level.num_codebooks = static_cast<int>(in.num_codebooks());
    level.frames += static_cast<int64_t>(in.frames());
    level.values = std::move(merged);
  }
  codes.scales.insert(codes.scales.end(), chunk.scales().begin(), chunk.scales().end());
  return absl::OkStatus();
}

}  // namespace codec::v1
