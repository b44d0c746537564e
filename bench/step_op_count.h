#ifndef BENCH_STEP_OP_COUNT_H_
#define BENCH_STEP_OP_COUNT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codec_backend.h"
#include "bench/op_count.h"

namespace codec::bench {

// What one batched step of `streams` streams dispatches: the streams are
// opened together and pushed chunks of `chunk_frames` frames as one batch
// each step (PushEach, as the server's executor pushes them), at least
// `warmup_steps` steps and on until every stream gives output (its
// start-up read-ahead is over); the next such step is counted, on the
// calling thread. `audio` is the model's input for encoding, and is encoded
// for the codes a decode (with `decode_options`) pushes; INVALID_ARGUMENT
// when it is too short.
absl::StatusOr<OpCount::Counts> CountBatchedStep(const CodecBackend& backend, bool decode,
                                                 const DecodeOptions& decode_options,
                                                 const Audio& audio, int64_t chunk_frames,
                                                 int streams, int warmup_steps);

}  // namespace codec::bench

#endif  // BENCH_STEP_OP_COUNT_H_
