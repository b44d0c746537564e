// Every backend against the upstream reference, on every fixture case:
// codes of the reference input (>= 99.9% identical), and the decode of the
// reference codes with decoder noise off (max abs error <= 1e-4).

#include <gtest/gtest.h>

#include "backends/codec_factory.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class ParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(GetParam());
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend = testing::LoadFixtureBackend(fixture_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
  }

  EncodeOptions ReferenceOptions() const { return fixture_.ReferenceEncodeOptions(); }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_P(ParityTest, CodesMatchReference) {
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, ReferenceOptions());
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
  std::cout << GetParam() << ": codes identical " << 100 * agreement.identical_fraction << "% of "
            << codes->Flatten().size() << "\n";
}

TEST_P(ParityTest, DecodeOfReferenceCodesMatchesReference) {
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  absl::StatusOr<Audio> decoded = backend_->Decode(fixture_.expected_codes, options);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const double max_error = testing::MaxAbsDiff(*decoded, fixture_.expected_decode);
  EXPECT_LE(max_error, 1e-4);
  std::cout << GetParam() << ": decode max abs error " << max_error << "\n";
}

// The network polls the caller's StopCheck as it runs: a check that says
// "go on" changes nothing, one that says "stop" ends the call with its error.
TEST_P(ParityTest, StopCheckIsPolledAndStopsTheNetwork) {
  int polls = 0;
  EncodeOptions encode = ReferenceOptions();
  encode.stop = [&polls] {
    ++polls;
    return absl::OkStatus();
  };
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, encode);
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(codes->Flatten(), backend_->Encode(fixture_.input, ReferenceOptions())->Flatten());
  EXPECT_GT(polls, 2) << "the encoder must poll between its layers";

  auto stop_at_second_poll = [](int& count) {
    return [&count]() -> absl::Status {
      return ++count >= 2 ? absl::CancelledError("stop here") : absl::OkStatus();
    };
  };
  int encode_polls = 0;
  encode.stop = stop_at_second_poll(encode_polls);
  EXPECT_EQ(backend_->Encode(fixture_.input, encode).status(), absl::CancelledError("stop here"));
  EXPECT_EQ(encode_polls, 2) << "nothing may run after the stop";

  int decode_polls = 0;
  DecodeOptions decode;
  decode.noise = NoiseMode::kOff;
  decode.stop = stop_at_second_poll(decode_polls);
  EXPECT_EQ(backend_->Decode(fixture_.expected_codes, decode).status(),
            absl::CancelledError("stop here"));
  EXPECT_EQ(decode_polls, 2);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest,
                         ::testing::Values("encodec24_tiny_bw6", "encodec24_tiny_bw12",
                                           "encodec48_tiny_stereo_bw6", "dac16_tiny", "dac44_tiny",
                                           "dac44_tiny_nq4", "snac24_tiny", "snac44_tiny_attn"));

}  // namespace
}  // namespace codec
