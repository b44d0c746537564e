#include "bench/bench_model.h"

#include "absl/strings/str_cat.h"
#include "backends/codec_factory.h"
#include "backends/core/status_macros.h"
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

}  // namespace codec::bench
