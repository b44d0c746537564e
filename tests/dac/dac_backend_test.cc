// DAC through the CodecBackend interface: config from the checkpoint,
// quantiser selection, chunked processing of long inputs, bad inputs, and
// the Hugging Face layout of its checkpoints.

#include "backends/dac/dac_backend.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "backends/core/codec_backend_handle.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/checkpoint.h"
#include "backends/io/wav.h"
#include "tests/testing/dac_hf_layout.h"
#include "tests/testing/fixture.h"
#include "tests/testing/manifest.h"

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

// Each DAC fixture converted to the hub's layout (transformers' DacModel
// names and config.json, with weight norm in each of its forms) loads from
// its folder with --model=dac alone, and computes exactly what the upstream
// checkpoint does: the same codes and the same decode, bit for bit, and so
// the reference's.
class DacHuggingFaceTest
    : public ::testing::TestWithParam<std::tuple<std::string, testing::WeightNormForm>> {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(std::get<0>(GetParam()));
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("hf_", std::get<0>(GetParam()), "_",
                         static_cast<int>(std::get<1>(GetParam()))))
               .string();
    ASSERT_TRUE(testing::WriteDacHuggingFaceFolder(fixture_.dir + "/weights.pth",
                                                   std::get<1>(GetParam()), dir_)
                    .ok());
  }

  testing::Fixture fixture_;
  std::string dir_;
};

TEST_P(DacHuggingFaceTest, FolderGivesTheUpstreamCheckpointsCodesAndDecode) {
  absl::StatusOr<std::shared_ptr<CodecBackend>> upstream = testing::LoadFixtureBackend(fixture_);
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  absl::StatusOr<std::shared_ptr<CodecBackend>> hf =
      CreateBackend({.model = "dac", .weights = dir_, .device = testing::TestDevice()});
  ASSERT_TRUE(hf.ok()) << hf.status();
  const absl::Status loaded = (*hf)->Load();
  ASSERT_TRUE(loaded.ok()) << loaded;
  const CodecDescription& want = (*upstream)->description();
  const CodecDescription& got = (*hf)->description();
  EXPECT_EQ(got.sample_rate, want.sample_rate);
  EXPECT_EQ(got.hop_length, want.hop_length);
  EXPECT_EQ(got.codebooks_per_level, want.codebooks_per_level);

  const EncodeOptions options = fixture_.ReferenceEncodeOptions();
  absl::StatusOr<Codes> codes = (*hf)->Encode(fixture_.input, options);
  absl::StatusOr<Codes> upstream_codes = (*upstream)->Encode(fixture_.input, options);
  ASSERT_TRUE(codes.ok()) << codes.status();
  ASSERT_TRUE(upstream_codes.ok()) << upstream_codes.status();
  EXPECT_EQ(codes->levels[0].values, upstream_codes->levels[0].values);
  const testing::CodesAgreement agreement = testing::CompareCodes(*codes, fixture_.expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.999);

  absl::StatusOr<Audio> decoded = (*hf)->Decode(fixture_.expected_codes, {});
  absl::StatusOr<Audio> upstream_decoded = (*upstream)->Decode(fixture_.expected_codes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(upstream_decoded.ok()) << upstream_decoded.status();
  EXPECT_EQ(testing::MaxAbsDiff(*decoded, *upstream_decoded), 0.0);
  EXPECT_LE(testing::MaxAbsDiff(*decoded, fixture_.expected_decode), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(
    AllFixturesAndWeightNormForms, DacHuggingFaceTest,
    ::testing::Combine(::testing::Values("dac16_tiny", "dac44_tiny", "dac44_tiny_nq4"),
                       ::testing::Values(testing::WeightNormForm::kPairs,
                                         testing::WeightNormForm::kParametrizations,
                                         testing::WeightNormForm::kFolded)));

// Folders made from the 16 kHz fixture: its tensors land in their layers, and
// a wrong file or config.json says what is wrong, in the file's own names.
class DacHuggingFaceFolderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<io::Checkpoint> upstream = io::LoadCheckpoint(kWeights16k);
    ASSERT_TRUE(upstream.ok()) << upstream.status();
    upstream_ = *std::move(upstream);
    absl::StatusOr<DacConfig> config = DacConfigFromJson(upstream_.config, {});
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    absl::StatusOr<io::StateDict> tensors = testing::DacStateDictToHuggingFace(
        upstream_.tensors, config_, testing::WeightNormForm::kPairs);
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    tensors_ = *std::move(tensors);
  }

  // `tensors` with `config` as config.json, loaded from a folder of its own
  // with --model=dac.
  absl::StatusOr<std::shared_ptr<CodecBackend>> LoadFolder(const io::StateDict& tensors,
                                                           const nlohmann::json& config) {
    const std::filesystem::path dir =
        std::filesystem::path(::testing::TempDir()) / absl::StrCat("dac_folder_", ++folders_);
    RETURN_IF_ERROR(testing::WriteModelFolder(tensors, config, dir.string()));
    ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                     CreateBackend({.model = "dac", .weights = dir.string()}));
    RETURN_IF_ERROR(backend->Load());
    return backend;
  }
  absl::Status Load(const io::StateDict& tensors, const nlohmann::json& config) {
    return LoadFolder(tensors, config).status();
  }

  io::Checkpoint upstream_;
  DacConfig config_;
  io::StateDict tensors_;
  int folders_ = 0;
};

// The fixture's Snake alphas are all ones, so a mapping that swapped two
// Snakes would still reproduce it. With distinct alphas, the Hugging Face
// folder must still compute exactly what the same upstream tensors do.
TEST_F(DacHuggingFaceFolderTest, EveryTensorLandsInItsLayer) {
  at::manual_seed(3);
  for (auto& [key, tensor] : upstream_.tensors) {
    if (absl::EndsWith(key, ".alpha")) tensor = at::rand_like(tensor) + 0.5;
  }
  absl::StatusOr<io::StateDict> hf = testing::DacStateDictToHuggingFace(
      upstream_.tensors, config_, testing::WeightNormForm::kPairs);
  ASSERT_TRUE(hf.ok()) << hf.status();
  absl::StatusOr<std::shared_ptr<CodecBackend>> upstream =
      LoadFolder(upstream_.tensors, upstream_.config);
  absl::StatusOr<std::shared_ptr<CodecBackend>> folder =
      LoadFolder(*hf, testing::DacHuggingFaceConfig(config_));
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  ASSERT_TRUE(folder.ok()) << folder.status();

  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("dac16_tiny");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<Codes> want = (*upstream)->Encode(fixture->input, {});
  absl::StatusOr<Codes> got = (*folder)->Encode(fixture->input, {});
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->levels[0].values, want->levels[0].values);
  absl::StatusOr<Audio> want_audio = (*upstream)->Decode(*want, {});
  absl::StatusOr<Audio> got_audio = (*folder)->Decode(*want, {});
  ASSERT_TRUE(want_audio.ok()) << want_audio.status();
  ASSERT_TRUE(got_audio.ok()) << got_audio.status();
  EXPECT_EQ(testing::MaxAbsDiff(*got_audio, *want_audio), 0.0);
}

TEST_F(DacHuggingFaceFolderTest, TensorsAreNamedAsTheFileNamesThem) {
  const nlohmann::json config = testing::DacHuggingFaceConfig(config_);
  ASSERT_TRUE(Load(tensors_, config).ok());

  io::StateDict missing = tensors_;
  ASSERT_EQ(missing.erase("decoder.block.0.conv_t1.bias"), 1u);
  EXPECT_TRUE(
      testing::IsInvalidArgument(Load(missing, config), "missing: decoder.block.0.conv_t1.bias"));

  io::StateDict misshaped = tensors_;
  misshaped["encoder.block.1.res_unit2.snake1.alpha"] = at::ones({1, 3, 1});
  EXPECT_TRUE(testing::IsInvalidArgument(Load(misshaped, config),
                                         "mis-shaped: encoder.block.1.res_unit2.snake1.alpha"));

  io::StateDict unexpected = tensors_;
  unexpected["decoder.block.0.res_unit4.conv1.bias"] = at::zeros({3});
  EXPECT_TRUE(testing::IsInvalidArgument(Load(unexpected, config),
                                         "unexpected: decoder.block.0.res_unit4.conv1.bias"));

  io::StateDict half_pair = tensors_;
  ASSERT_EQ(half_pair.erase("encoder.conv2.weight_v"), 1u);
  EXPECT_TRUE(testing::IsInvalidArgument(Load(half_pair, config), "encoder.conv2.weight_g"));
}

TEST_F(DacHuggingFaceFolderTest, ConfigMustDescribeTheWeights) {
  nlohmann::json wrong_hop = testing::DacHuggingFaceConfig(config_);
  wrong_hop["hop_length"] = 512;
  EXPECT_TRUE(testing::IsInvalidArgument(Load(tensors_, wrong_hop), "'hop_length' is 512"));

  nlohmann::json encodec = testing::DacHuggingFaceConfig(config_);
  encodec["model_type"] = "encodec";
  EXPECT_TRUE(testing::IsInvalidArgument(Load(tensors_, encodec), "\"encodec\""));

  // Sizes far beyond any DAC's are refused by name; a model within them
  // but larger than memory is an error, not a crash.
  nlohmann::json absurd = testing::DacHuggingFaceConfig(config_);
  absurd["encoder_hidden_size"] = 2000000000;
  EXPECT_TRUE(testing::IsInvalidArgument(Load(tensors_, absurd),
                                         "encoder_dim (encoder_hidden_size) is 2000000000"));
  nlohmann::json huge = testing::DacHuggingFaceConfig(config_);
  huge["decoder_hidden_size"] = 65536;  // A 137 GB transposed conv.
  const absl::Status too_big = Load(tensors_, huge);
  EXPECT_FALSE(too_big.ok());
  EXPECT_NE(too_big.message().find("memory"), std::string::npos) << too_big;

  // Fewer codebooks than the file holds: the extra quantisers are named.
  nlohmann::json fewer = testing::DacHuggingFaceConfig(config_);
  fewer["n_codebooks"] = config_.n_codebooks - 1;
  EXPECT_TRUE(testing::IsInvalidArgument(
      Load(tensors_, fewer),
      absl::StrCat("unexpected: quantizer.quantizers.", config_.n_codebooks - 1, ".")));
}

}  // namespace
}  // namespace codec::dac
