// Every backend against the upstream reference, on every fixture case:
// the codes of the reference input, and the decode of the reference codes
// with decoder noise off (max abs error <= 1e-4).
//
// Where the reference stored its encoder's latent (every model but the
// segmented EnCodec 48 kHz), encoding is held to it in two halves: our
// quantiser on the reference's latent must give exactly its codes, and our
// encoder's latent must equal the reference's to float rounding. The codes
// of the whole encode can differ from the reference's where two codewords
// are near-equally close: rounding, which moves with the BLAS (OpenBLAS sums
// in another order than the reference BLAS the fixtures were made with),
// picks either.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>
#include <vector>

#include "backends/factory/codec_factory.h"
#include "backends/io/npy.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/runtime/split_encoder.h"
#include "backends/streaming/network_streams.h"
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

  absl::StatusOr<nn::EncodeStreamParts> EncoderParts() const {
    const auto* split = dynamic_cast<const SplitEncoder*>(backend_.get());
    if (split == nullptr) return absl::UnimplementedError("the encoder does not split");
    return split->EncoderParts(fixture_.expected_codes.levels.front().num_codebooks);
  }

  // The reference's latent, [1, D, frames].
  at::Tensor ReferenceLatent() const {
    const std::vector<int64_t>& shape = fixture_.latent->shape;
    std::vector<float> values = *io::AsFloat32(*fixture_.latent);
    return at::from_blob(values.data(), {1, shape[0], shape[1]}, at::kFloat).clone();
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_P(ParityTest, CodesMatchReference) {
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, ReferenceOptions());
  ASSERT_TRUE(codes.ok()) << codes.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*codes, fixture_.expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  // With the halves checked exactly below, this guards what joins them (the
  // quantiser selection, the input's padding): near-tie flips take their
  // frame's later codebooks along.
  EXPECT_GE(agreement.identical_fraction, fixture_.latent ? 0.99 : 0.999);
  ASSERT_EQ(codes->scales.size(), fixture_.expected_codes.scales.size());
  for (size_t i = 0; i < codes->scales.size(); ++i) {
    EXPECT_NEAR(codes->scales[i], fixture_.expected_codes.scales[i],
                1e-5 * fixture_.expected_codes.scales[i]);
  }
  EXPECT_EQ(codes->num_samples, fixture_.input.num_frames());
  std::cout << GetParam() << ": codes identical " << 100 * agreement.identical_fraction << "% of "
            << codes->Flatten().size() << "\n";
}

TEST_P(ParityTest, QuantizerOnReferenceLatentGivesReferenceCodes) {
  if (!fixture_.latent) GTEST_SKIP() << "the reference stored no latent (segmented model)";
  absl::StatusOr<nn::EncodeStreamParts> parts = EncoderParts();
  ASSERT_TRUE(parts.ok()) << parts.status();
  const Codes codes =
      nn::CodesBatchFromLevels(parts->quantize(ReferenceLatent().to(parts->device))).front();
  const testing::CodesAgreement agreement = testing::CompareCodes(codes, fixture_.expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_EQ(agreement.identical_fraction, 1.0);
}

TEST_P(ParityTest, EncoderLatentMatchesReference) {
  if (!fixture_.latent) GTEST_SKIP() << "the reference stored no latent (segmented model)";
  absl::StatusOr<nn::EncodeStreamParts> parts = EncoderParts();
  ASSERT_TRUE(parts.ok()) << parts.status();
  // The input zero-padded as the offline encode pads it, through the
  // encoder's layers.
  const at::Tensor audio = nn::AudioView(fixture_.input).unsqueeze(0).to(parts->device);
  const int64_t samples = audio.size(-1), multiple = parts->pad_multiple;
  const at::Tensor padded =
      at::constant_pad_nd(audio, {0, (samples + multiple - 1) / multiple * multiple - samples});
  const at::Tensor pushed = parts->encoder->Push(padded);
  const at::Tensor finished = parts->encoder->Finish();
  const at::Tensor latent = finished.defined() ? at::cat({pushed, finished}, -1) : pushed;
  const at::Tensor expected = ReferenceLatent();
  ASSERT_EQ(latent.sizes(), expected.sizes());
  // Rounding moves a latent value by a few float ulps of the latent's scale
  // per layer; a wrong layer moves it by the scale itself.
  const double scale = expected.abs().max().item<double>();
  const double error = (latent.cpu() - expected).abs().max().item<double>();
  EXPECT_LE(error, 1e-5 * scale);
  std::cout << GetParam() << ": latent max abs error " << error << " (" << error / scale
            << " of its largest value)\n";
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

INSTANTIATE_TEST_SUITE_P(Fixtures, ParityTest, ::testing::ValuesIn(testing::FixtureCases()));

}  // namespace
}  // namespace codec
