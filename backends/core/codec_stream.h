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

// Incremental encoding of one audio stream (one session per call).
//
// Contract: for any way of cutting the input into chunks, the concatenation
// of everything Push and Finish return equals Encode of the whole input (the
// same frames; codes equal up to float rounding near ties). Push returns
// the codes that no later input can change, as soon as they are final;
// Finish pads the end exactly as Encode does and returns the rest, with
// `num_samples` set to the stream's length. Chunks returned by Push carry
// `num_samples` 0.
//
// Sessions hold their own state and a reference to the loaded weights, so
// many run at once on one backend (and Unload does not cut them off). One
// session is not thread-safe: calls on it must not overlap. After an error
// the session is unusable.
class EncodeStream {
 public:
  virtual ~EncodeStream() = default;
  // `audio`: the model's rate and channels, any number of frames (0 too).
  // Returns codes with zero or more finest-level frames (every level holds
  // the frames of whole groups of max(level_strides) finest frames).
  virtual absl::StatusOr<Codes> Push(const Audio& audio) = 0;
  // Ends the stream: INVALID_ARGUMENT when it carried no audio.
  virtual absl::StatusOr<Codes> Finish() = 0;

  virtual BatchKey batch_key() const { return {}; }
  // Pushes chunks[i] into sessions[i] (distinct, this one among them, all
  // with this one's batch key) and returns what each Push would, each
  // session's errors its own.
  virtual std::vector<absl::StatusOr<Codes>> PushBatch(const std::vector<EncodeStream*>& sessions,
                                                       const std::vector<const Audio*>& chunks) {
    std::vector<absl::StatusOr<Codes>> out;
    for (size_t i = 0; i < sessions.size(); ++i) out.push_back(sessions[i]->Push(*chunks[i]));
    return out;
  }
};

// Incremental decoding of one token stream. Same contract as EncodeStream:
// the concatenated audio equals Decode of all the codes, sample for sample
// (trimmed to DecodeOptions::num_samples when set); Push returns the samples
// that no later codes can change.
class DecodeStream {
 public:
  virtual ~DecodeStream() = default;
  // `codes`: at least one frame, levels, codebooks and scales as Decode
  // takes them (multi-level codes in whole groups of max(level_strides)
  // finest frames); the codebook count may not change within a stream.
  // INVALID_ARGUMENT for anything else, before any work.
  virtual absl::StatusOr<Audio> Push(const Codes& codes) = 0;
  // Ends the stream: INVALID_ARGUMENT when it carried no codes, or when
  // they cannot end there (e.g. SNAC attention windows left incomplete).
  virtual absl::StatusOr<Audio> Finish() = 0;

  virtual BatchKey batch_key() const { return {}; }
  // As EncodeStream::PushBatch.
  virtual std::vector<absl::StatusOr<Audio>> PushBatch(const std::vector<DecodeStream*>& sessions,
                                                       const std::vector<const Codes*>& chunks) {
    std::vector<absl::StatusOr<Audio>> out;
    for (size_t i = 0; i < sessions.size(); ++i) out.push_back(sessions[i]->Push(*chunks[i]));
    return out;
  }
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_STREAM_H_
