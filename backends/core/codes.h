#ifndef BACKENDS_CORE_CODES_H_
#define BACKENDS_CORE_CODES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backends/core/codec_description.h"

namespace codec {

// One time-resolution of codes: `num_codebooks` rows of `frames` codes,
// stored codebook-major (values[k * frames + t] is codebook k at frame t).
struct CodeLevel {
  int num_codebooks = 0;
  int64_t frames = 0;
  std::vector<uint32_t> values;

  uint32_t at(int codebook, int64_t frame) const { return values[codebook * frames + frame]; }
};

// The discrete representation of a piece of audio.
//
// Single-rate codecs (EnCodec, DAC) hold one level of shape [n_q, frames].
// Multi-rate codecs (SNAC) hold one level per scale, coarsest first, each with
// one codebook. Segmented models (EnCodec 48 kHz) also carry one
// normalisation scale per segment. `num_samples` is the length of the encoded
// audio when known (0 otherwise); decoders trim their output to it.
struct Codes {
  std::vector<CodeLevel> levels;
  std::vector<float> scales;
  int64_t num_samples = 0;

  // Total number of codebooks across levels.
  int total_codebooks() const;

  // The flat token layout: levels concatenated, each codebook-major
  // ([cb0_t0, cb0_t1, ..., cb1_t0, ...]).
  std::vector<uint32_t> Flatten() const;

  // The one check of codes against a model, used by every backend's Decode,
  // by decode streams for each chunk and by the server for each message:
  // the model's level count; per level 1 to the model's codebooks and at
  // least one frame, with values.size() == codebooks * frames; every level
  // spanning the same finest frames (frames * level_stride); every code
  // below the codebook size; scales only for segmented models, each finite
  // and positive. Errors are INVALID_ARGUMENT naming the offending level,
  // codebook and frame.
  absl::Status Validate(const CodecDescription& model) const;
};

// Finest frames [first, last) of every level (level i keeps its frames
// [first / stride_i, last / stride_i), stride_i = finest / level_i.frames;
// `first` and `last` multiples of the coarsest stride, or `last` the end).
// The slice starting at frame 0 carries all the segment scales.
Codes SliceCodes(const Codes& codes, int64_t first, int64_t last);
// `parts` one after the other, level by level (codebook-major), with their
// scales; num_samples from the last part that sets it.
Codes ConcatCodes(const std::vector<Codes>& parts);

// Rebuilds single-level codes from the flat layout; `num_codebooks` must
// divide the token count.
absl::StatusOr<Codes> CodesFromFlat(absl::Span<const uint32_t> tokens, int num_codebooks);

// Rebuilds multi-level codes from the flat layout (levels concatenated,
// coarsest first). Level i has codebooks_per_level[i] codebooks of
// T / level_strides[i] frames, where T, the finest frame count, is a
// multiple of every stride; a token count no such T explains is
// INVALID_ARGUMENT.
absl::StatusOr<Codes> CodesFromFlatLevels(absl::Span<const uint32_t> tokens,
                                          const std::vector<int>& codebooks_per_level,
                                          const std::vector<int>& level_strides);

}  // namespace codec

#endif  // BACKENDS_CORE_CODES_H_
