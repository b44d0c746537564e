// EnCodec against the upstream reference: codes from the fixture input, and
// the decode of the reference codes, on every EnCodec fixture case.

#include <gtest/gtest.h>

#include "backends/codec_factory.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class EncodecParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(GetParam());
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.id = GetParam(), .model = "encodec", .weights = fixture_.dir});
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
    ASSERT_TRUE(backend_->Load().ok());
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_P(EncodecParityTest, CodesMatchReference) {
  EncodeOptions options;
  options.bandwidth_kbps = fixture_.meta.at("bandwidth").get<double>();
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, options);
  ASSERT_TRUE(codes.ok()) << codes.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*codes, fixture_.expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.999);
  ASSERT_EQ(codes->scales.size(), fixture_.expected_codes.scales.size());
  for (size_t i = 0; i < codes->scales.size(); ++i) {
    EXPECT_NEAR(codes->scales[i], fixture_.expected_codes.scales[i],
                1e-5 * fixture_.expected_codes.scales[i]);
  }
  EXPECT_EQ(codes->num_samples, fixture_.input.num_frames());
  std::cout << GetParam() << ": codes identical " << 100 * agreement.identical_fraction
            << "% of " << codes->levels[0].values.size() << "\n";
}

TEST_P(EncodecParityTest, DecodeOfReferenceCodesMatchesReference) {
  absl::StatusOr<Audio> decoded = backend_->Decode(fixture_.expected_codes, DecodeOptions{});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const double max_error = testing::MaxAbsDiff(*decoded, fixture_.expected_decode);
  EXPECT_LE(max_error, 1e-4);
  std::cout << GetParam() << ": decode max abs error " << max_error << "\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncodecParityTest,
                         ::testing::Values("encodec24_tiny_bw6", "encodec24_tiny_bw12",
                                           "encodec48_tiny_stereo_bw6"));

}  // namespace
}  // namespace codec
