// SNAC against the upstream reference on every SNAC fixture case: codes of
// the reference input, and the noise-free decode of the reference codes.

#include <gtest/gtest.h>

#include "backends/codec_factory.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class SnacParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(GetParam());
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.id = GetParam(), .model = "snac", .weights = fixture_.dir});
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
    const absl::Status loaded = backend_->Load();
    ASSERT_TRUE(loaded.ok()) << loaded;
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_P(SnacParityTest, CodesMatchReference) {
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, EncodeOptions{});
  ASSERT_TRUE(codes.ok()) << codes.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*codes, fixture_.expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.999);
  std::cout << GetParam() << ": codes identical " << 100 * agreement.identical_fraction
            << "% of " << codes->Flatten().size() << "\n";
}

TEST_P(SnacParityTest, NoiseFreeDecodeOfReferenceCodesMatchesReference) {
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  absl::StatusOr<Audio> decoded = backend_->Decode(fixture_.expected_codes, options);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const double max_error = testing::MaxAbsDiff(*decoded, fixture_.expected_decode);
  EXPECT_LE(max_error, 1e-4);
  std::cout << GetParam() << ": decode max abs error " << max_error << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SnacParityTest,
                         ::testing::Values("snac24_tiny", "snac44_tiny_attn"));

}  // namespace
}  // namespace codec
