#include "tests/testing/fixture.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/codes_npz.h"
#include "backends/io/npz.h"
#include "backends/io/wav.h"

namespace codec::testing {

absl::StatusOr<Fixture> LoadFixture(const std::string& name) {
  Fixture f;
  f.dir = absl::StrCat("tests/fixtures/", name);
  std::ifstream meta(f.dir + "/meta.json");
  if (!meta) return absl::NotFoundError(absl::StrCat("no fixture ", f.dir));
  f.meta = nlohmann::json::parse(meta);
  ASSIGN_OR_RETURN(f.input, io::ReadWav(f.dir + "/input.wav"));
  ASSIGN_OR_RETURN(io::NpzFile npz, io::ReadNpz(f.dir + "/expected.npz"));
  ASSIGN_OR_RETURN(f.expected_codes, io::CodesFromNpz(npz, f.dir + "/expected.npz"));
  f.expected_codes.num_samples = f.meta.at("num_samples").get<int64_t>();
  const io::NpyArray& decoded = npz.at("decoded");
  f.expected_decode.sample_rate = f.meta.at("sample_rate").get<int>();
  f.expected_decode.channels = static_cast<int>(decoded.shape[0]);
  ASSIGN_OR_RETURN(f.expected_decode.samples, io::AsFloat32(decoded));
  if (const auto latent = npz.find("latent"); latent != npz.end()) f.latent = latent->second;
  return f;
}

const std::vector<std::string>& FixtureCases() {
  static const auto* cases = new std::vector<std::string>{
      "encodec24_tiny_bw6", "encodec24_tiny_bw12", "encodec48_tiny_stereo_bw6",
      "dac16_tiny",         "dac44_tiny",          "dac44_tiny_nq4",
      "snac24_tiny",        "snac44_tiny_attn",    "mimi_tiny_nq8",
      "mimi_tiny_nq32",     "mimi_tiny_ctx8"};
  return *cases;
}

EncodeOptions Fixture::ReferenceEncodeOptions() const {
  EncodeOptions options;
  if (meta.contains("bandwidth")) {
    options.bandwidth_kbps = meta.at("bandwidth").get<double>();
  } else if (meta.contains("n_q")) {
    options.n_q = meta.at("n_q").get<int>();
  }
  return options;
}

std::string TestDevice() {
  const char* device = std::getenv("CODEC_TEST_DEVICE");
  return device != nullptr && *device != '\0' ? device : "cpu";
}

absl::StatusOr<nn::HostKernels> TestHostKernels() {
  const char* kernels = std::getenv("CODEC_TEST_HOST_KERNELS");
  return kernels != nullptr && *kernels != '\0' ? nn::ParseHostKernels(kernels)
                                                 : nn::HostKernels::kExact;
}

absl::StatusOr<std::shared_ptr<CodecBackend>> LoadFixtureBackend(const Fixture& fixture) {
  ASSIGN_OR_RETURN(const nn::HostKernels kernels, TestHostKernels());
  nn::SetHostKernels(kernels);
  const std::string name = fixture.dir.substr(fixture.dir.rfind('/') + 1);
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                   CreateBackend({.id = name,
                                  .model = fixture.meta.at("codec").get<std::string>(),
                                  .weights = fixture.dir,
                                  .device = TestDevice()}));
  RETURN_IF_ERROR(backend->Load());
  return backend;
}

std::string FixtureRepository() {
  namespace fs = std::filesystem;
  const fs::path fixtures = "tests/fixtures";
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(fixtures)) {
    if (!entry.is_symlink()) continue;
    const std::string real = fs::canonical(entry.path()).string();
    const std::string relative = entry.path().lexically_relative(fixtures).string();
    if (real.size() > relative.size() + 1 &&
        real.compare(real.size() - relative.size(), relative.size(), relative) == 0) {
      return real.substr(0, real.size() - relative.size() - 1);
    }
  }
  return fs::canonical(fixtures).string();
}

void UseReferenceThreadCount() {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer cannot see the barriers of libgomp (uninstrumented),
  // which runs libtorch's and oneDNN's parallel regions: every tensor one
  // of its threads wrote and ours then read would be reported. One thread
  // runs those regions inline, so what TSan checks is our threads alone.
  at::set_num_threads(1);
#else
  at::set_num_threads(2);
#endif
}

CodesAgreement CompareCodes(const Codes& actual, const Codes& expected) {
  CodesAgreement agreement;
  if (actual.levels.size() != expected.levels.size()) return agreement;
  int64_t same = 0, total = 0;
  for (size_t l = 0; l < actual.levels.size(); ++l) {
    const CodeLevel& a = actual.levels[l];
    const CodeLevel& e = expected.levels[l];
    if (a.num_codebooks != e.num_codebooks || a.frames != e.frames) return agreement;
    for (size_t i = 0; i < a.values.size(); ++i) same += a.values[i] == e.values[i];
    total += static_cast<int64_t>(a.values.size());
  }
  agreement.same_shape = true;
  agreement.identical_fraction = total > 0 ? static_cast<double>(same) / total : 0;
  return agreement;
}

::testing::AssertionResult IsInvalidArgument(const absl::Status& status,
                                             const std::string& mention) {
  if (status.code() == absl::StatusCode::kInvalidArgument &&
      status.message().find(mention) != absl::string_view::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << status << " is not INVALID_ARGUMENT mentioning '" << mention << "'";
}

}  // namespace codec::testing
