#ifndef BACKENDS_CORE_STREAM_BATCH_H_
#define BACKENDS_CORE_STREAM_BATCH_H_

#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codec_stream.h"
#include "backends/core/codes.h"

namespace codec {

// Pushes chunks[i] into sessions[i] (distinct sessions) and returns what
// each Push would: the sessions that share a batch key push as one batch
// (PushBatch), the others alone. One session's bad chunk is its own error;
// the others' results do not depend on it.
std::vector<absl::StatusOr<Codes>> PushEach(const std::vector<EncodeStream*>& sessions,
                                            const std::vector<const Audio*>& chunks);
std::vector<absl::StatusOr<Audio>> PushEach(const std::vector<DecodeStream*>& sessions,
                                            const std::vector<const Codes*>& chunks);

}  // namespace codec

#endif  // BACKENDS_CORE_STREAM_BATCH_H_
