#ifndef BACKENDS_CORE_CODEC_OPTIONS_H_
#define BACKENDS_CORE_CODEC_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace codec {

// Lets a caller stop a long Encode or Decode: backends poll it between
// network layers, and when it returns an error (CANCELLED,
// DEADLINE_EXCEEDED, ...) the call stops and returns that error. Empty: run
// to the end. Called on the thread that called Encode/Decode.
using StopCheck = std::function<absl::Status()>;

// How often work that waits (for a compute slot, for its turn in a batch)
// reads its StopCheck: a deadline or a cancellation ends the wait within
// this.
inline constexpr absl::Duration kStopCheckInterval = absl::Milliseconds(10);

// How many quantisers an encode uses. At most one of the two may be set;
// with neither, the model's default (its largest bandwidth / all quantisers).
struct EncodeOptions {
  std::optional<double> bandwidth_kbps;
  std::optional<int> n_q;
  StopCheck stop;
};

// Decoder noise for codecs that add it (SNAC). kRandom matches upstream,
// kOff makes decoding deterministic (noise blocks are identity), kSeeded
// draws reproducible noise from `seed`.
enum class NoiseMode { kRandom, kOff, kSeeded };

struct DecodeOptions {
  NoiseMode noise = NoiseMode::kRandom;
  uint64_t seed = 0;
  // A decode stream's bound on lookahead: the frames past a frame that the
  // stream waits for before it sends that frame's audio. Below the model's
  // CodecDescription::decode_lookahead_frames, audio leaves early, computed
  // as if the codes ended there (as the offline decode ends its input), and
  // is never revised; at or above it, or unset, the stream is exact.
  std::optional<int64_t> lookahead_frames;
  StopCheck stop;
};

// The command-line form the tools share: `noise` is "on" (random, or seeded
// when `seed` is given) or "off"; anything else is INVALID_ARGUMENT.
absl::StatusOr<DecodeOptions> ParseDecodeOptions(const std::string& noise,
                                                 std::optional<uint64_t> seed);

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_OPTIONS_H_
