// --precision=bf16 on every fixture case: what running the convolutions in
// bfloat16 costs against float32. The decode of the reference codes must
// stay within 30 dB SI-SDR of the fp32 decode; the encode's codes are
// reported against the fp32 encode's. Those differ far more than at
// near-ties: bfloat16 moves a latent by about 1e-3 of its scale, and the
// later residual codebooks quantise what the earlier ones left, which is
// of that size (the tiny EnCodec fixtures, whose codebooks are filled with
// near-identical vectors, keep a third of their codes; Mimi's 32 levels a
// fifth). Codes of a broken convolution agree at chance, a small fraction
// of a percent, so the bar is a tenth: far above chance, below every case.

#include <gtest/gtest.h>

#include <iostream>

#include "backends/factory/codec_factory.h"
#include "backends/kernels/conv_precision.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class Bfloat16Test : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    if (!nn::SetConvPrecision(nn::ConvPrecision::kBfloat16).ok()) {
      GTEST_SKIP() << "this CPU has no AVX-512 BF16";
    }
    ASSERT_TRUE(nn::SetConvPrecision(nn::ConvPrecision::kFloat32).ok());
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(GetParam());
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend = testing::LoadFixtureBackend(fixture_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
  }

  void TearDown() override { ASSERT_TRUE(nn::SetConvPrecision(nn::ConvPrecision::kFloat32).ok()); }

  // `run` in fp32, then in bf16.
  template <typename Run>
  auto InBothPrecisions(Run run) {
    auto fp32 = run();
    EXPECT_TRUE(nn::SetConvPrecision(nn::ConvPrecision::kBfloat16).ok());
    auto bf16 = run();
    EXPECT_TRUE(nn::SetConvPrecision(nn::ConvPrecision::kFloat32).ok());
    return std::make_pair(std::move(fp32), std::move(bf16));
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_P(Bfloat16Test, DecodeStaysWithin30DbOfFloat32) {
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  auto [fp32, bf16] =
      InBothPrecisions([&] { return backend_->Decode(fixture_.expected_codes, options); });
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  const double si_sdr = testing::SiSdrDb(*bf16, *fp32);
  EXPECT_GE(si_sdr, 30.0);
  EXPECT_LT(si_sdr, 100.0) << "bf16 changed nothing: its convolutions did not run";
  std::cout << GetParam() << ": bf16 decode SI-SDR " << si_sdr << " dB against fp32\n";
}

TEST_P(Bfloat16Test, EncodeCodesLargelyAgreeWithFloat32) {
  auto [fp32, bf16] = InBothPrecisions(
      [&] { return backend_->Encode(fixture_.input, fixture_.ReferenceEncodeOptions()); });
  ASSERT_TRUE(fp32.ok()) << fp32.status();
  ASSERT_TRUE(bf16.ok()) << bf16.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*bf16, *fp32);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.10);
  std::cout << GetParam()
            << ": bf16 codes identical to fp32's: " << 100 * agreement.identical_fraction << "%\n";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Bfloat16Test, ::testing::ValuesIn(testing::FixtureCases()));

}  // namespace
}  // namespace codec
