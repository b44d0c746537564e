#ifndef TESTS_TESTING_FIXTURE_H_
#define TESTS_TESTING_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codec_backend.h"
#include "backends/core/codes.h"
#include "backends/io/npy.h"
#include "backends/kernels/host_kernels.h"
#include "tests/testing/audio_metrics.h"

namespace codec::testing {

// One reference-parity case from tests/fixtures/<name>/.
struct Fixture {
  std::string dir;        // tests/fixtures/<name>
  nlohmann::json meta;    // meta.json
  Audio input;            // input.wav
  Codes expected_codes;   // expected.npz codes / codes_<i>, scales, num_samples
  Audio expected_decode;  // expected.npz decoded
  // expected.npz latent, float [D, frames]: the reference encoder's output
  // (unsegmented models only).
  std::optional<io::NpyArray> latent;

  // The quantiser selection the reference used (its bandwidth or n_q).
  EncodeOptions ReferenceEncodeOptions() const;
};

absl::StatusOr<Fixture> LoadFixture(const std::string& name);

// The names of every case in tests/fixtures (//tests/fixtures:cases), for
// ::testing::ValuesIn.
const std::vector<std::string>& FixtureCases();

// tests/fixtures as a server's model repository: the folder where its files
// really are. Bazel's runfiles tree links each file to it, and the server
// refuses weights whose real path is outside its repository.
std::string FixtureRepository();

// The device the fixture codecs run on: $CODEC_TEST_DEVICE ("cuda:0" in
// tests/cuda/run.sh), else "cpu".
std::string TestDevice();

// The kernels CPU models take: $CODEC_TEST_HOST_KERNELS ("device": the
// operations a GPU runs, nn/host_kernels.h), else the exact ones. Set for
// the process by LoadFixtureBackend.
absl::StatusOr<nn::HostKernels> TestHostKernels();

// The fixture's codec with its weights, loaded on TestDevice(), with
// TestHostKernels().
absl::StatusOr<std::shared_ptr<CodecBackend>> LoadFixtureBackend(const Fixture& fixture);

// The fixtures were made with 2 intra-op threads; libtorch's convolutions
// sum in a thread-count-dependent order, so 2 threads reproduce the
// reference bit for bit (1 thread differs by ~1e-7, enough to flip a rare
// near-tie code). Under ThreadSanitizer, 1 thread (fixture.cc says why).
void UseReferenceThreadCount();

// Figures of agreement with the reference.
struct CodesAgreement {
  bool same_shape = false;
  double identical_fraction = 0;  // Over all codes, when shapes agree.
};
CodesAgreement CompareCodes(const Codes& actual, const Codes& expected);

// Whether `status` is INVALID_ARGUMENT with a message containing `mention`;
// use as EXPECT_TRUE(IsInvalidArgument(...)).
::testing::AssertionResult IsInvalidArgument(const absl::Status& status,
                                             const std::string& mention);

}  // namespace codec::testing

#endif  // TESTS_TESTING_FIXTURE_H_
