#ifndef BENCH_BENCH_MODEL_H_
#define BENCH_BENCH_MODEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "backends/core/codec_backend.h"

namespace codec::bench {

// A preset at full size: random weights of the published shapes, written
// under `workdir`, and the backend loaded from them on `device`.
struct BenchModel {
  std::shared_ptr<CodecBackend> backend;
  std::string weights;  // The checkpoint, relative to `workdir`.
};

absl::StatusOr<BenchModel> LoadBenchModel(const std::string& preset, const std::string& workdir,
                                          const std::string& device = "cpu");

// One whole-file request each way on `audio`, each warmed up once and then
// timed (decode with noise off), and the codes it encodes to.
struct OfflineTimes {
  Codes codes;
  double encode_seconds = 0;
  double decode_seconds = 0;
};

absl::StatusOr<OfflineTimes> TimeOffline(const CodecBackend& backend, const Audio& audio);

}  // namespace codec::bench

#endif  // BENCH_BENCH_MODEL_H_
