#ifndef BACKENDS_CORE_CODEC_STREAM_H_
#define BACKENDS_CORE_CODEC_STREAM_H_

#include <memory>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codes.h"

namespace codec {

// Sessions that can push as one batch (PushEach, stream_batch.h) share a
// key: the same kind of session on the same loaded model. The default key
// batches with nothing.
struct BatchKey {
  const void* kind = nullptr;
  const void* model = nullptr;

  bool batches() const { return kind != nullptr; }
  friend bool operator<(const BatchKey& a, const BatchKey& b) {
    return std::tie(a.kind, a.model) < std::tie(b.kind, b.model);
  }
};

// Incremental coding of one stream in one direction: chunks of `In` pushed
// as they arrive, `Out` returned as soon as it is final. Encoding is
// CodecStream<Audio, Codes> (EncodeStream), decoding CodecStream<Codes,
// Audio> (DecodeStream); everything that moves chunks through sessions (the
// batch, the server's executor and handlers) is written once over both.
//
// Contract: for any way of cutting the input into chunks, the concatenation
// of everything Push and Finish return equals the offline call on the whole
// input (Encode: the same frames, codes equal up to float rounding near
// ties; Decode: the same audio sample for sample, trimmed to
// DecodeOptions::num_samples when set). Push returns the output that no
// later input can change; Finish pads the end exactly as the offline call
// does and returns the rest.
//
// Sessions hold their own state and a reference to the loaded weights, so
// many run at once on one backend (and Unload does not cut them off). One
// session is not thread-safe: calls on it must not overlap. After an error
// the session is unusable.
template <typename In, typename Out>
class CodecStream {
 public:
  using Input = In;
  using Output = Out;

  virtual ~CodecStream() = default;
  // Encode: audio at the model's rate and channels, any number of frames (0
  // too); returns codes with zero or more finest-level frames (every level
  // holds the frames of whole groups of max(level_strides) finest frames),
  // `num_samples` 0.
  // Decode: codes of at least one frame, with the levels, codebooks and
  // scales Decode takes (multi-level codes in whole groups of
  // max(level_strides) finest frames); the codebook count may not change
  // within a stream. INVALID_ARGUMENT for anything else, before any work.
  virtual absl::StatusOr<Out> Push(const In& chunk) = 0;
  // Ends the stream: INVALID_ARGUMENT when it carried no input, or when it
  // cannot end there (e.g. SNAC attention windows left incomplete). An
  // encode's codes carry `num_samples`, the stream's length.
  virtual absl::StatusOr<Out> Finish() = 0;

  virtual BatchKey batch_key() const { return {}; }
  // Pushes chunks[i] into sessions[i] (distinct, this one among them, all
  // with this one's batch key) and returns what each Push would, each
  // session's errors its own.
  virtual std::vector<absl::StatusOr<Out>> PushBatch(const std::vector<CodecStream*>& sessions,
                                                     const std::vector<const In*>& chunks) {
    std::vector<absl::StatusOr<Out>> out;
    for (size_t i = 0; i < sessions.size(); ++i) out.push_back(sessions[i]->Push(*chunks[i]));
    return out;
  }
};

using EncodeStream = CodecStream<Audio, Codes>;
using DecodeStream = CodecStream<Codes, Audio>;

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_STREAM_H_
