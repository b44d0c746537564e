#include "backends/core/stream_batch.h"

#include <map>

namespace codec {
namespace {

template <typename Session, typename Chunk, typename Result>
std::vector<Result> PushEachOf(const std::vector<Session*>& sessions,
                               const std::vector<const Chunk*>& chunks) {
  std::vector<Result> results(sessions.size(), Result(absl::InternalError("not pushed")));
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
    std::vector<Session*> batch_sessions;
    std::vector<const Chunk*> batch_chunks;
    for (size_t i : members) {
      batch_sessions.push_back(sessions[i]);
      batch_chunks.push_back(chunks[i]);
    }
    std::vector<Result> out = batch_sessions.front()->PushBatch(batch_sessions, batch_chunks);
    for (size_t m = 0; m < members.size(); ++m) results[members[m]] = std::move(out[m]);
  }
  return results;
}

}  // namespace

std::vector<absl::StatusOr<Codes>> PushEach(const std::vector<EncodeStream*>& sessions,
                                            const std::vector<const Audio*>& chunks) {
  return PushEachOf<EncodeStream, Audio, absl::StatusOr<Codes>>(sessions, chunks);
}

std::vector<absl::StatusOr<Audio>> PushEach(const std::vector<DecodeStream*>& sessions,
                                            const std::vector<const Codes*>& chunks) {
  return PushEachOf<DecodeStream, Codes, absl::StatusOr<Audio>>(sessions, chunks);
}

}  // namespace codec
