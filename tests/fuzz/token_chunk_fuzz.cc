// What the server does with a DecodeRequest's TokenChunk, on arbitrary
// bytes: parse, convert, check against a model (single-level, multi-level,
// segmented with scales), and cut into the steps it pushes.

#include <algorithm>
#include <cstdint>
#include <string>

#include "backends/core/codec_description.h"
#include "backends/core/codes.h"
#include "codec/v1/codec.pb.h"
#include "proto/token_format.h"

namespace {

codec::CodecDescription Model(std::vector<int> codebooks, std::vector<int> strides,
                              bool scales) {
  codec::CodecDescription model;
  model.sample_rate = 24000;
  model.channels = 1;
  model.hop_length = 320;
  model.codebook_size = 1024;
  model.codebooks_per_level = std::move(codebooks);
  model.level_strides = std::move(strides);
  model.has_scales = scales;
  model.segment_length = scales ? 24000 : 0;
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  codec::v1::TokenChunk chunk;
  if (!chunk.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::StatusOr<codec::Codes> codes = codec::v1::CodesFromTokenChunk(chunk);
  if (!codes.ok()) return 0;
  for (const codec::CodecDescription& model :
       {Model({32}, {1}, false), Model({1, 1, 1}, {4, 2, 1}, false), Model({8}, {1}, true)}) {
    if (!codes->Validate(model).ok()) continue;
    const int64_t frames = codes->levels[0].frames * model.level_strides[0];
    const int64_t step = 8 * model.level_strides[0];
    for (int64_t first = 0; first < frames; first += step) {
      (void)codec::SliceCodes(*codes, first, std::min(frames, first + step));
    }
  }
  return 0;
}
