// SNAC through the CodecBackend interface: description, decoder noise
// modes, and every bad input.

#include <gtest/gtest.h>

#include "backends/factory/codec_factory.h"
#include "backends/io/npy.h"
#include "backends/io/read_file.h"
#include "backends/snac/snac_config.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class SnacBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }
  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("snac44_tiny_attn");
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.model = "snac", .weights = fixture_.dir});
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
    ASSERT_TRUE(backend_->Load().ok());
  }
  Audio DecodeWith(NoiseMode mode, uint64_t seed = 0) {
    DecodeOptions options;
    options.noise = mode;
    options.seed = seed;
    absl::StatusOr<Audio> audio = backend_->Decode(fixture_.expected_codes, options);
    EXPECT_TRUE(audio.ok()) << audio.status();
    return audio.ok() ? *audio : Audio{};
  }
  absl::Status DecodeStatus(const Codes& codes) { return backend_->Decode(codes, {}).status(); }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_F(SnacBackendTest, DescribesMultiScaleLevels) {
  const CodecDescription& d = backend_->description();
  EXPECT_EQ(d.family, "snac");
  EXPECT_EQ(d.sample_rate, 44100);
  EXPECT_EQ(d.hop_length, 2 * 3 * 8 * 8);
  EXPECT_EQ(d.codebooks_per_level, (std::vector<int>{1, 1, 1, 1}));
  ASSERT_EQ(d.frame_rates.size(), 4u);
  EXPECT_DOUBLE_EQ(d.frame_rates[0], 44100.0 / (384 * 8));
  EXPECT_DOUBLE_EQ(d.frame_rates[3], 44100.0 / 384);
  EXPECT_TRUE(d.has_noise);
}

TEST_F(SnacBackendTest, SeededNoiseIsReproducibleAndDiffersFromNoiseOff) {
  const Audio off = DecodeWith(NoiseMode::kOff);
  const Audio seeded = DecodeWith(NoiseMode::kSeeded, 7);
  EXPECT_EQ(DecodeWith(NoiseMode::kSeeded, 7).samples, seeded.samples);
  EXPECT_NE(DecodeWith(NoiseMode::kSeeded, 8).samples, seeded.samples);
  EXPECT_GT(testing::MaxAbsDiff(seeded, off), 1e-4);
  EXPECT_GT(testing::MaxAbsDiff(DecodeWith(NoiseMode::kRandom), off), 1e-4);
  EXPECT_EQ(off.samples.size(), seeded.samples.size());
}

// Seeded noise draws what torch.manual_seed(seed) makes upstream draw.
TEST(SnacSeededNoiseTest, MatchesReferenceManualSeed) {
  testing::UseReferenceThreadCount();
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("snac24_tiny");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<std::string> bytes = io::ReadFileBytes(fixture->dir + "/decoded_seed5.npy");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<io::NpyArray> array = io::ParseNpy(*bytes, "decoded_seed5");
  ASSERT_TRUE(array.ok()) << array.status();
  Audio reference{24000, 1, *io::AsFloat32(*array)};
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
      CreateBackend({.model = "snac", .weights = fixture->dir});
  ASSERT_TRUE(backend.ok() && (*backend)->Load().ok());
  DecodeOptions seeded;
  seeded.noise = NoiseMode::kSeeded;
  seeded.seed = 5;
  absl::StatusOr<Audio> decoded = (*backend)->Decode(fixture->expected_codes, seeded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const double max_error = testing::MaxAbsDiff(*decoded, reference);
  EXPECT_LE(max_error, 1e-4);
  EXPECT_GT(testing::MaxAbsDiff(*decoded, fixture->expected_decode), 1e-4);
  std::cout << "seed 5 decode vs reference: max abs error " << max_error << "\n";
}

TEST_F(SnacBackendTest, EncodeTrimsDecodeToInputLengthAfterPadding) {
  // 1000 samples pad to one window of hop * lcm(8, 32) = 12288.
  Audio short_audio{
      44100, 1,
      std::vector<float>(fixture_.input.samples.begin(), fixture_.input.samples.begin() + 1000)};
  absl::StatusOr<Codes> codes = backend_->Encode(short_audio, {});
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(codes->levels[3].frames, 32);
  EXPECT_EQ(codes->levels[0].frames, 4);
  absl::StatusOr<Audio> decoded = backend_->Decode(*codes, {});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->num_frames(), 1000);
}

TEST_F(SnacBackendTest, BadCodesAreInvalidArgument) {
  Codes wrong_count = fixture_.expected_codes;
  wrong_count.levels.pop_back();
  EXPECT_TRUE(
      testing::IsInvalidArgument(DecodeStatus(wrong_count), "3 level(s); the model takes 4"));

  Codes inconsistent = fixture_.expected_codes;
  inconsistent.levels[1].frames -= 1;
  inconsistent.levels[1].values.pop_back();
  EXPECT_TRUE(testing::IsInvalidArgument(
      DecodeStatus(inconsistent), "levels must cover the same frames (strides [8, 4, 2, 1])"));

  Codes out_of_range = fixture_.expected_codes;
  out_of_range.levels[2].values[3] = 1024;
  EXPECT_TRUE(testing::IsInvalidArgument(DecodeStatus(out_of_range), "code 1024 at level 2"));

  // Consistent strides, but not whole attention windows.
  Codes partial_window;
  for (int stride : {8, 4, 2, 1})
    partial_window.levels.push_back({1, 8 / stride, std::vector<uint32_t>(8 / stride, 0)});
  EXPECT_TRUE(testing::IsInvalidArgument(DecodeStatus(partial_window), "attention window"));
}

TEST_F(SnacBackendTest, QuantiserOptionsAreRejected) {
  EncodeOptions bandwidth;
  bandwidth.bandwidth_kbps = 2.6;
  EXPECT_EQ(backend_->Encode(fixture_.input, bandwidth).status().code(),
            absl::StatusCode::kInvalidArgument);
  EncodeOptions two;
  two.n_q = 2;
  EXPECT_EQ(backend_->Encode(fixture_.input, two).status().code(),
            absl::StatusCode::kInvalidArgument);
  EncodeOptions all;
  all.n_q = 4;
  EXPECT_TRUE(backend_->Encode(fixture_.input, all).ok());
}

TEST_F(SnacBackendTest, FlatTokenApiConcatenatesLevels) {
  absl::StatusOr<std::vector<uint32_t>> tokens =
      backend_->encode_pcm(fixture_.input.samples, 44100);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(*tokens, fixture_.expected_codes.Flatten());
  absl::StatusOr<std::vector<float>> samples = backend_->decode_tokens(*tokens, 4);
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ(static_cast<int64_t>(samples->size()), fixture_.expected_codes.levels[3].frames * 384);

  const std::vector<uint32_t> ragged(tokens->begin(), tokens->end() - 1);
  const absl::Status status = backend_->decode_tokens(ragged, 4).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("strides [8, 4, 2, 1]"), std::string::npos) << status;
  EXPECT_EQ(backend_->decode_tokens(*tokens, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Sizes far beyond any SNAC's are refused by name, before anything is
// built (the DAC and Mimi configs' bounds, config_bounds.h).
TEST(SnacConfigTest, AbsurdFieldsAreRefusedByName) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"sampling_rate", 0}}, "sampling_rate is 0"},
      {{{"encoder_dim", 2000000000}}, "encoder_dim is 2000000000"},
      {{{"decoder_dim", -1}}, "decoder_dim is -1"},
      {{{"codebook_size", 1 << 30}}, "codebook_size is 1073741824"},
      {{{"codebook_dim", 1 << 30}}, "codebook_dim is 1073741824"},
      {{{"encoder_rates", {2, 1000000}}}, "encoder_rates is 1000000"},
      {{{"encoder_rates", nlohmann::json::array()}}, "the number of encoder_rates is 0"},
      {{{"decoder_rates", {2, 2, 2, 2, 2, 2, 2, 2, 2}}}, "the number of decoder_rates is 9"},
      {{{"vq_strides", {4, 0}}}, "vq_strides is 0"},
      {{{"attn_window_size", 0}}, "attn_window_size is 0"},
      {{{"latent_dim", 1 << 20}}, "latent_dim"},
      {{{"encoder_dim", 8192}}, "latent_dim (encoder_dim << encoder_rates) is 65537"},
      {{{"decoder_dim", 8}}, "decoder_dim >> decoder_rates is 0"},
      {{{"encoder_rates", {64, 64, 64, 64}}}, "the hop (product of encoder_rates) is 65537"},
  };
  for (const auto& [fields, named] : cases) {
    EXPECT_TRUE(testing::IsInvalidArgument(
        snac::SnacConfigFromJson(fields, *snac::SnacPreset("snac_24khz")).status(), named))
        << fields.dump();
  }
  EXPECT_TRUE(
      snac::SnacConfigFromJson(nlohmann::json::object(), *snac::SnacPreset("snac_44khz")).ok());
}

}  // namespace
}  // namespace codec
