#include "bench/bench_model.h"

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "bench/timing.h"
#include "tests/testing/manifest.h"

namespace codec::bench {

absl::StatusOr<BenchModel> LoadBenchModel(const std::string& preset, const std::string& workdir,
                                          const std::string& device) {
  BenchModel model;
  ASSIGN_OR_RETURN(model.weights, testing::WriteManifestCheckpoint(preset, workdir));
  ASSIGN_OR_RETURN(model.backend,
                   CreateBackend({.model = preset,
                                  .weights = absl::StrCat(workdir, "/", model.weights),
                                  .device = device}));
  RETURN_IF_ERROR(model.backend->Load());
  return model;
}

absl::StatusOr<OfflineTimes> TimeOffline(const CodecBackend& backend, const Audio& audio) {
  OfflineTimes times;
  ASSIGN_OR_RETURN(times.codes, backend.Encode(audio, {}));
  Clock::time_point start = Clock::now();
  RETURN_IF_ERROR(backend.Encode(audio, {}).status());
  times.encode_seconds = SecondsSince(start);
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  RETURN_IF_ERROR(backend.Decode(times.codes, options).status());
  start = Clock::now();
  RETURN_IF_ERROR(backend.Decode(times.codes, options).status());
  times.decode_seconds = SecondsSince(start);
  return times;
}

}  // namespace codec::bench
