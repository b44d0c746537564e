// DAC through the CodecBackend interface: config from the checkpoint,
// quantiser selection, chunked processing of long inputs, bad inputs.

#include "backends/dac/dac_backend.h"

#include <gtest/gtest.h>

#include "backends/codec_factory.h"
#include "backends/core/codec_backend_handle.h"
#include "backends/io/checkpoint.h"
#include "backends/io/wav.h"
#include "tests/testing/fixture.h"

namespace codec::dac {
namespace {

constexpr char kWeights16k[] = "tests/fixtures/dac16_tiny/weights.pth";

class DacBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }
  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("dac44_tiny");
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    // The preset says 9 full-size codebooks; the checkpoint's kwargs win.
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.model = "dac_44khz", .weights = fixture_.dir + "/weights.pth"});
    ASSERT_TRUE(backend.ok()) << backend.status();
    backend_ = *backend;
    ASSERT_TRUE(backend_->Load().ok());
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_F(DacBackendTest, ConfigComesFromCheckpointKwargs) {
  absl::StatusOr<nlohmann::json> kwargs = io::LoadCheckpointConfig(kWeights16k);
  ASSERT_TRUE(kwargs.ok()) << kwargs.status();
  EXPECT_EQ(kwargs->at("n_codebooks"), 12);
  // Even under another preset's name, the weights' own config applies.
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
      CreateBackend({.model = "dac_44khz", .weights = kWeights16k});
  ASSERT_TRUE(backend.ok()) << backend.status();
  const CodecDescription& d = (*backend)->description();
  EXPECT_EQ(d.sample_rate, 16000);
  EXPECT_EQ(d.hop_length, 320);
  EXPECT_EQ(d.codebooks_per_level, std::vector<int>{12});
  EXPECT_DOUBLE_EQ(d.frame_rates[0], 50.0);
  EXPECT_TRUE((*backend)->Load().ok());
}

TEST_F(DacBackendTest, FirstQuantisersAndFewerCodebooksOnDecode) {
  EncodeOptions four;
  four.n_q = 4;
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, four);
  ASSERT_TRUE(codes.ok());
  ASSERT_EQ(codes->levels[0].num_codebooks, 4);
  // The first 4 quantisers give the first 4 rows of the full encode.
  absl::StatusOr<Codes> all = backend_->Encode(fixture_.input, {});
  ASSERT_TRUE(all.ok());
  const CodeLevel& full = all->levels[0];
  EXPECT_EQ(codes->levels[0].values,
            std::vector<uint32_t>(full.values.begin(), full.values.begin() + 4 * full.frames));
  absl::StatusOr<Audio> decoded = backend_->Decode(*codes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->num_frames(), fixture_.input.num_frames());
}

TEST_F(DacBackendTest, BadInputsAreInvalidArgument) {
  EncodeOptions too_many;
  too_many.n_q = 10;
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Encode(fixture_.input, too_many).status(), "1 to 9"));
  EncodeOptions bandwidth;
  bandwidth.bandwidth_kbps = 8;
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Encode(fixture_.input, bandwidth).status(), "n_q"));
  Audio wrong_rate = fixture_.input;
  wrong_rate.sample_rate = 48000;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(wrong_rate, {}).status(), "48000 Hz"));

  Codes out_of_range = fixture_.expected_codes;
  out_of_range.levels[0].values[0] = 1024;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Decode(out_of_range, {}).status(), "code 1024"));
  Codes extra_codebook;
  extra_codebook.levels.push_back({10, 3, std::vector<uint32_t>(30, 0)});
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Decode(extra_codebook, {}).status(), "10 codebook(s)"));
}

// Long inputs run in windows with context; the result must be the
// whole-input result. Measured on a real 11 s recording.
TEST(DacChunkingTest, ChunkedEqualsWholeInput) {
  testing::UseReferenceThreadCount();
  absl::StatusOr<Audio> recording = io::ReadWav("tests/fixtures/audio/jfk.wav");
  ASSERT_TRUE(recording.ok());
  absl::StatusOr<nlohmann::json> kwargs = io::LoadCheckpointConfig(kWeights16k);
  ASSERT_TRUE(kwargs.ok());
  absl::StatusOr<DacConfig> config = DacConfigFromJson(*kwargs, {});
  ASSERT_TRUE(config.ok());
  const int64_t frames = recording->num_frames() / config->hop_length();  // 550 at 50 Hz.

  auto whole = CodecBackendHandle<DacBackend>::Create("whole", *config, kWeights16k,
                                                      Chunking{frames + 1, 0});
  auto chunked = CodecBackendHandle<DacBackend>::Create("chunked", *config, kWeights16k,
                                                        Chunking::Default(*config));
  ASSERT_LT(Chunking::Default(*config).chunk_frames, frames);
  ASSERT_TRUE(whole.Load().ok() && chunked.Load().ok());

  absl::StatusOr<Codes> whole_codes = whole.Encode(*recording);
  absl::StatusOr<Codes> chunked_codes = chunked.Encode(*recording);
  ASSERT_TRUE(whole_codes.ok() && chunked_codes.ok());
  const testing::CodesAgreement agreement = testing::CompareCodes(*chunked_codes, *whole_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.999);

  absl::StatusOr<Audio> whole_audio = whole.Decode(*whole_codes);
  absl::StatusOr<Audio> chunked_audio = chunked.Decode(*whole_codes);
  ASSERT_TRUE(whole_audio.ok() && chunked_audio.ok());
  const double max_error = testing::MaxAbsDiff(*chunked_audio, *whole_audio);
  EXPECT_LE(max_error, 1e-5);
  std::cout << "chunked vs whole (10 s windows, 1 s context): codes identical "
            << 100 * agreement.identical_fraction << "%, decode max abs diff " << max_error << "\n";

  // Windows far smaller than the receptive field are still close.
  auto tiny = CodecBackendHandle<DacBackend>::Create("tiny", *config, kWeights16k, Chunking{25, 4});
  ASSERT_TRUE(tiny.Load().ok());
  absl::StatusOr<Audio> tiny_audio = tiny.Decode(*whole_codes);
  absl::StatusOr<Codes> tiny_codes = tiny.Encode(*recording);
  ASSERT_TRUE(tiny_audio.ok() && tiny_codes.ok());
  // Close, not equal: the context misses part of the receptive field. A
  // misplaced window would agree by chance only.
  const testing::CodesAgreement tiny_agreement = testing::CompareCodes(*tiny_codes, *whole_codes);
  const double tiny_error = testing::MaxAbsDiff(*tiny_audio, *whole_audio);
  ASSERT_TRUE(tiny_agreement.same_shape);
  EXPECT_GE(tiny_agreement.identical_fraction, 0.9);
  EXPECT_LE(tiny_error, 5e-3);
  std::cout << "chunked vs whole (0.5 s windows, 80 ms context): codes identical "
            << 100 * tiny_agreement.identical_fraction << "%, decode max abs diff " << tiny_error
            << "\n";
}

}  // namespace
}  // namespace codec::dac
