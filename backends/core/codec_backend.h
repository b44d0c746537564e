#ifndef BACKENDS_CORE_CODEC_BACKEND_H_
#define BACKENDS_CORE_CODEC_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backends/core/audio.h"
#include "backends/core/codec_description.h"
#include "backends/core/codec_options.h"
#include "backends/core/codec_stream.h"
#include "backends/core/codes.h"

namespace codec {

// The interface every codec implements.
//
// Lifecycle: a backend is created unloaded; Load() reads its weights and is
// idempotent (concurrent first calls load once); Unload() drops the weights
// (their memory is freed once calls already running have returned).
// description() is available in every state.
//
// Thread safety: all methods may be called concurrently. Encode and Decode
// on a loaded backend run in parallel; on an unloaded backend they return
// FAILED_PRECONDITION.
//
// Errors are absl::Status codes a gRPC layer can pass through unchanged:
// INVALID_ARGUMENT for bad audio, codes or options, FAILED_PRECONDITION when
// not loaded, NOT_FOUND / DATA_LOSS for missing or corrupt weights.
class CodecBackend {
 public:
  virtual ~CodecBackend() = default;

  // The name this backend is registered under.
  virtual const std::string& id() const = 0;
  // Every CodecBackend is a provider of kind "codec".
  std::string_view provider_kind() const { return "codec"; }

  virtual absl::Status Load() = 0;
  virtual absl::Status Unload() = 0;
  virtual bool IsLoaded() const = 0;
  // Bytes of weights held in memory; 0 when unloaded.
  virtual int64_t MemoryBytes() const = 0;

  virtual const CodecDescription& description() const = 0;

  // Encodes `audio`, which must be at the model's sample rate and channel
  // count, finite, and non-empty.
  virtual absl::StatusOr<Codes> Encode(const Audio& audio, const EncodeOptions& options) const = 0;
  // Decodes `codes` to audio at the model's rate, trimmed to
  // codes.num_samples when that is set.
  virtual absl::StatusOr<Audio> Decode(const Codes& codes, const DecodeOptions& options) const = 0;

  // Incremental sessions whose output equals Encode / Decode of the whole
  // stream (codec_stream.h); the options' stop check is polled by every
  // step. A decode stream trims its audio to `num_samples` when it is
  // positive (segmented models need it to place their segments).
  virtual absl::StatusOr<std::unique_ptr<EncodeStream>> OpenEncodeStream(
      const EncodeOptions& options) const = 0;
  virtual absl::StatusOr<std::unique_ptr<DecodeStream>> OpenDecodeStream(
      const DecodeOptions& options, int64_t num_samples) const = 0;

  // The original flat API, built on Encode/Decode for unsegmented codecs.
  // `samples` are interleaved frames at `sample_rate` (which must be the
  // model's); tokens are codebook-major, levels concatenated coarsest first
  // (see Codes::Flatten). Multi-level codecs decode all their codebooks.
  int sample_rate() const { return description().sample_rate; }
  int num_codebooks() const;
  absl::StatusOr<std::vector<uint32_t>> encode_pcm(absl::Span<const float> samples,
                                                   int sample_rate) const;
  absl::StatusOr<std::vector<float>> decode_tokens(absl::Span<const uint32_t> tokens,
                                                   int num_codebooks) const;
};

// Checks that `audio` can be fed to a model described by `description`:
// matching rate and channels, whole frames, at least one sample, all finite.
absl::Status ValidateAudioInput(const Audio& audio, const CodecDescription& description);

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_BACKEND_H_
