#include "bench/step_op_count.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/core/codec_stream.h"
#include "backends/core/status_macros.h"
#include "backends/core/stream_batch.h"

namespace codec::bench {
namespace {

bool HasOutput(const Codes& codes) { return codes.levels.back().frames > 0; }
bool HasOutput(const Audio& audio) { return audio.num_frames() > 0; }

// Pushes `chunk` into every session as one batch: whether every session
// gave output; the first error fails it.
template <typename Session, typename In>
absl::StatusOr<bool> PushStep(const std::vector<std::unique_ptr<Session>>& sessions,
                              const In& chunk) {
  std::vector<Session*> batch;
  std::vector<const In*> chunks;
  for (const auto& session : sessions) {
    batch.push_back(session.get());
    chunks.push_back(&chunk);
  }
  bool every_one = true;
  for (const auto& result : PushEach(batch, chunks)) {
    RETURN_IF_ERROR(result.status());
    every_one &= HasOutput(*result);
  }
  return every_one;
}

// Pushes at least `warmup_steps` steps and on until a step gives every
// session output (its start-up read-ahead is over), then counts the next
// step that gives every session output (a model whose attention runs whole
// windows gives output every few steps): chunk(i) is step i's chunk,
// `steps` the most there are.
template <typename Session, typename ChunkOf>
absl::StatusOr<OpCount::Counts> CountSteps(const std::vector<std::unique_ptr<Session>>& sessions,
                                           int warmup_steps, int64_t steps, ChunkOf chunk) {
  bool warm = false;
  for (int64_t step = 0; step < steps; ++step) {
    const auto next = chunk(step);
    const OpCount count;
    ASSIGN_OR_RETURN(const bool every_one, PushStep(sessions, next));
    if (warm && every_one) return count.counts();
    warm |= step + 1 >= warmup_steps && every_one;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the streams gave output in too few of ", steps, " steps; give more audio"));
}

}  // namespace

absl::StatusOr<OpCount::Counts> CountBatchedStep(const CodecBackend& backend, bool decode,
                                                 const DecodeOptions& decode_options,
                                                 const Audio& audio, int64_t chunk_frames,
                                                 int streams, int warmup_steps) {
  const CodecDescription& desc = backend.description();
  const int64_t chunk = chunk_frames * desc.hop_length;
  const int64_t steps = audio.num_frames() / chunk;
  if (decode) {
    ASSIGN_OR_RETURN(const Codes codes, backend.Encode(audio, {}));
    std::vector<std::unique_ptr<DecodeStream>> sessions;
    for (int s = 0; s < streams; ++s) {
      ASSIGN_OR_RETURN(sessions.emplace_back(), backend.OpenDecodeStream(decode_options, 0));
    }
    return CountSteps(sessions, warmup_steps, steps, [&](int64_t step) {
      return SliceCodes(codes, step * chunk_frames, (step + 1) * chunk_frames);
    });
  }
  std::vector<std::unique_ptr<EncodeStream>> sessions;
  for (int s = 0; s < streams; ++s) {
    ASSIGN_OR_RETURN(sessions.emplace_back(), backend.OpenEncodeStream({}));
  }
  return CountSteps(sessions, warmup_steps, steps, [&](int64_t step) {
    return SliceFrames(audio, step * chunk, (step + 1) * chunk);
  });
}

}  // namespace codec::bench
