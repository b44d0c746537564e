#ifndef BACKENDS_CORE_STREAM_BATCH_H_
#define BACKENDS_CORE_STREAM_BATCH_H_

#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/codec_stream.h"

namespace codec {

// Pushes chunks[i] into sessions[i] (distinct sessions) and returns what
// each Push would: the sessions that share a batch key push as one batch
// (PushBatch), the others alone. One session's bad chunk is its own error;
// the others' results do not depend on it.
template <typename In, typename Out>
std::vector<absl::StatusOr<Out>> PushEach(const std::vector<CodecStream<In, Out>*>& sessions,
                                          const std::vector<const In*>& chunks) {
  std::vector<absl::StatusOr<Out>> results(sessions.size(), absl::InternalError("not pushed"));
  std::map<BatchKey, std::vector<size_t>> batches;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const BatchKey key = sessions[i]->batch_key();
    if (key.batches()) {
      batches[key].push_back(i);
    } else {
      results[i] = sessions[i]->Push(*chunks[i]);
    }
  }
  for (const auto& [key, members] : batches) {
    std::vector<CodecStream<In, Out>*> batch_sessions;
    std::vector<const In*> batch_chunks;
    for (size_t i : members) {
      batch_sessions.push_back(sessions[i]);
      batch_chunks.push_back(chunks[i]);
    }
    std::vector<absl::StatusOr<Out>> out =
        batch_sessions.front()->PushBatch(batch_sessions, batch_chunks);
    for (size_t m = 0; m < members.size(); ++m) results[members[m]] = std::move(out[m]);
  }
  return results;
}

}  // namespace codec

#endif  // BACKENDS_CORE_STREAM_BATCH_H_
