// EnCodec through the CodecBackend interface: lifecycle, handles, the flat
// token API, concurrency, Hugging Face checkpoints and every bad input.

#include "backends/encodec/encodec_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_replace.h"
#include "backends/core/codec_backend_handle.h"
#include "backends/core/dyn_codec_provider.h"
#include "backends/encodec/encodec_config.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/checkpoint.h"
#include "backends/io/safetensors.h"
#include "tests/testing/fixture.h"

namespace codec::encodec {
namespace {

constexpr char kCase[] = "encodec24_tiny_bw6";
constexpr char kStereoCase[] = "encodec48_tiny_stereo_bw6";

std::shared_ptr<CodecBackend> MakeBackend(const std::string& fixture,
                                          const std::string& weights = "") {
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
      CreateBackend({.id = fixture,
                     .model = "encodec",
                     .weights = weights.empty() ? "tests/fixtures/" + fixture : weights,
                     .config = "tests/fixtures/" + fixture + "/config.json"});
  EXPECT_TRUE(backend.ok()) << backend.status();
  return backend.ok() ? *backend : nullptr;
}

class EncodecBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }
  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(kCase);
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *std::move(fixture);
    backend_ = MakeBackend(kCase);
    ASSERT_NE(backend_, nullptr);
    ASSERT_TRUE(backend_->Load().ok());
  }

  testing::Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
};

TEST_F(EncodecBackendTest, DescribesItself) {
  const CodecDescription& d = backend_->description();
  EXPECT_EQ(backend_->provider_kind(), "codec");
  EXPECT_EQ(d.family, "encodec");
  EXPECT_EQ(d.sample_rate, 24000);
  EXPECT_EQ(d.channels, 1);
  EXPECT_EQ(d.hop_length, 320);
  EXPECT_EQ(d.codebooks_per_level, std::vector<int>{16});
  EXPECT_EQ(d.frame_rates, std::vector<double>{75.0});
  EXPECT_EQ(d.bandwidths_kbps, (std::vector<double>{1.5, 3, 6, 12}));
  EXPECT_EQ(backend_->sample_rate(), 24000);
  EXPECT_EQ(backend_->num_codebooks(), 16);
}

TEST_F(EncodecBackendTest, LifecycleAndUnloadFreesWeights) {
  EXPECT_TRUE(backend_->IsLoaded());
  ASSERT_TRUE(backend_->Unload().ok());
  EXPECT_FALSE(backend_->IsLoaded());
  const absl::Status status = backend_->Encode(fixture_.input, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("not loaded"), std::string::npos);
  EXPECT_EQ(backend_->Decode(fixture_.expected_codes, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(backend_->Load().ok());
  EXPECT_TRUE(backend_->Encode(fixture_.input, {}).ok());
}

TEST_F(EncodecBackendTest, ConcurrentFirstLoadsLoadOnceAndAllSucceed) {
  std::shared_ptr<CodecBackend> fresh = MakeBackend(kCase);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] { ok += fresh->Load().ok(); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, 8);
  EXPECT_TRUE(fresh->IsLoaded());
}

TEST_F(EncodecBackendTest, ConcurrentEncodesAndDecodesAgree) {
  const absl::StatusOr<Codes> reference = backend_->Encode(fixture_.input, {});
  ASSERT_TRUE(reference.ok());
  std::vector<std::thread> threads;
  std::atomic<int> agree{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      if (i % 2 == 0) {
        absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, {});
        agree += codes.ok() && codes->levels[0].values == reference->levels[0].values;
      } else {
        absl::StatusOr<Audio> audio = backend_->Decode(fixture_.expected_codes, {});
        agree += audio.ok() && testing::MaxAbsDiff(*audio, fixture_.expected_decode) <= 1e-4;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(agree, 6);
}

TEST_F(EncodecBackendTest, TypedAndTypeErasedHandlesShareOneBackend) {
  auto handle = CodecBackendHandle<EncodecBackend>::Create(
      "typed", EncodecConfig{}, "tests/fixtures/encodec24_tiny_bw6/weights.th");
  const DynCodecProvider provider(handle);
  EXPECT_EQ(provider.id(), "typed");
  EXPECT_EQ(provider.provider_kind(), "codec");
  EXPECT_FALSE(provider.IsLoaded());
  // The default config is the 24 kHz preset, which these tiny weights do not fit.
  const absl::Status status = handle.Load();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("mis-shaped"), std::string::npos) << status;

  absl::StatusOr<EncodecConfig> config = EncodecConfigFromJson(
      nlohmann::json::parse(std::ifstream("tests/fixtures/encodec24_tiny_bw6/config.json")), {});
  ASSERT_TRUE(config.ok());
  auto tiny = CodecBackendHandle<EncodecBackend>::Create(
      "tiny", *config, "tests/fixtures/encodec24_tiny_bw6/weights.th");
  const DynCodecProvider shared(tiny);
  ASSERT_TRUE(tiny.Load().ok());
  EXPECT_TRUE(shared.IsLoaded());
  absl::StatusOr<Codes> typed = tiny.Encode(fixture_.input);
  absl::StatusOr<Codes> erased = shared.Encode(fixture_.input);
  ASSERT_TRUE(typed.ok() && erased.ok());
  EXPECT_EQ(typed->levels[0].values, erased->levels[0].values);
}

TEST_F(EncodecBackendTest, FlatTokenApiRoundTripsThroughCodes) {
  EncodeOptions all;
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, all);
  ASSERT_TRUE(codes.ok());
  absl::StatusOr<std::vector<uint32_t>> tokens =
      backend_->encode_pcm(fixture_.input.samples, 24000);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(*tokens, codes->Flatten());
  absl::StatusOr<std::vector<float>> samples =
      backend_->decode_tokens(*tokens, backend_->num_codebooks());
  ASSERT_TRUE(samples.ok()) << samples.status();
  absl::StatusOr<Audio> decoded = backend_->Decode(*CodesFromFlat(*tokens, 16), {});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*samples, decoded->samples);
  EXPECT_EQ(samples->size(), static_cast<size_t>(codes->levels[0].frames * 320));
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->decode_tokens(*tokens, 7).status(), "7 codebooks"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      backend_->encode_pcm(fixture_.input.samples, 16000).status(), "16000 Hz"));
}

TEST_F(EncodecBackendTest, FlatApiRefusesSegmentedModels) {
  std::shared_ptr<CodecBackend> stereo = MakeBackend(kStereoCase);
  ASSERT_TRUE(stereo->Load().ok());
  const std::vector<float> pcm(9600, 0.1f);
  EXPECT_EQ(stereo->encode_pcm(pcm, 48000).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EncodecBackendTest, BadAudioIsInvalidArgument) {
  Audio empty{24000, 1, {}};
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(empty, {}).status(), "empty"));
  Audio nan = fixture_.input;
  nan.samples[100] = std::nanf("");
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(nan, {}).status(), "sample 100"));
  Audio inf = fixture_.input;
  inf.samples[5] = INFINITY;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(inf, {}).status(), "not finite"));
  Audio rate = fixture_.input;
  rate.sample_rate = 44100;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(rate, {}).status(), "44100 Hz"));
  Audio stereo{24000, 2, std::vector<float>(200, 0.f)};
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(stereo, {}).status(), "2 channel"));
}

TEST_F(EncodecBackendTest, ShortInputsEncode) {
  // Shorter than every reflect pad: upstream's zero-extension path.
  for (int64_t length : {1, 5, 319, 321}) {
    Audio audio{24000, 1,
                std::vector<float>(fixture_.input.samples.begin(),
                                   fixture_.input.samples.begin() + length)};
    absl::StatusOr<Codes> codes = backend_->Encode(audio, {});
    ASSERT_TRUE(codes.ok()) << length << ": " << codes.status();
    EXPECT_EQ(codes->levels[0].frames, (length + 319) / 320);
    absl::StatusOr<Audio> decoded = backend_->Decode(*codes, {});
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->num_frames(), length);
  }
}

TEST_F(EncodecBackendTest, QuantiserSelection) {
  EncodeOptions bandwidth;
  bandwidth.bandwidth_kbps = 3.0;
  absl::StatusOr<Codes> codes = backend_->Encode(fixture_.input, bandwidth);
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(codes->levels[0].num_codebooks, 4);
  EncodeOptions count;
  count.n_q = 5;
  codes = backend_->Encode(fixture_.input, count);
  ASSERT_TRUE(codes.ok());
  EXPECT_EQ(codes->levels[0].num_codebooks, 5);

  EncodeOptions unsupported;
  unsupported.bandwidth_kbps = 24.0;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Encode(fixture_.input, unsupported).status(),
                                         "supported: 1.5, 3, 6, 12 kbps"));
  EncodeOptions too_many;
  too_many.n_q = 17;
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Encode(fixture_.input, too_many).status(), "1 to 16"));
  EncodeOptions both;
  both.n_q = 2;
  both.bandwidth_kbps = 3.0;
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Encode(fixture_.input, both).status(), "not both"));
}

TEST_F(EncodecBackendTest, BadCodesAreInvalidArgument) {
  Codes out_of_range = fixture_.expected_codes;
  out_of_range.levels[0].values[9] = 1024;
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Decode(out_of_range, {}).status(), "code 1024"));
  Codes too_many;
  too_many.levels.push_back({17, 2, std::vector<uint32_t>(34, 0)});
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Decode(too_many, {}).status(), "17 codebook(s)"));
  Codes two_levels = fixture_.expected_codes;
  two_levels.levels.push_back(two_levels.levels[0]);
  EXPECT_TRUE(
      testing::IsInvalidArgument(backend_->Decode(two_levels, {}).status(), "the model takes 1"));
  Codes scaled = fixture_.expected_codes;
  scaled.scales = {1.0f};
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Decode(scaled, {}).status(), "scale"));
  Codes ragged = fixture_.expected_codes;
  ragged.levels[0].values.pop_back();
  EXPECT_TRUE(testing::IsInvalidArgument(backend_->Decode(ragged, {}).status(), "values"));
}

TEST_F(EncodecBackendTest, FewerCodebooksDecode) {
  Codes first_two;
  const CodeLevel& all = fixture_.expected_codes.levels[0];
  first_two.levels.push_back(
      {2, all.frames,
       std::vector<uint32_t>(all.values.begin(), all.values.begin() + 2 * all.frames)});
  absl::StatusOr<Audio> audio = backend_->Decode(first_two, {});
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->num_frames(), all.frames * 320);
}

TEST_F(EncodecBackendTest, SegmentedCodesNeedConsistentSegments) {
  absl::StatusOr<testing::Fixture> stereo_fixture = testing::LoadFixture(kStereoCase);
  ASSERT_TRUE(stereo_fixture.ok());
  std::shared_ptr<CodecBackend> stereo = MakeBackend(kStereoCase);
  ASSERT_TRUE(stereo->Load().ok());
  Codes missing_scale = stereo_fixture->expected_codes;
  missing_scale.scales.pop_back();
  EXPECT_TRUE(testing::IsInvalidArgument(stereo->Decode(missing_scale, {}).status(), "2 scales"));
  Codes no_length = stereo_fixture->expected_codes;
  no_length.num_samples = 0;
  EXPECT_TRUE(testing::IsInvalidArgument(stereo->Decode(no_length, {}).status(), "num_samples"));
  Codes wrong_length = stereo_fixture->expected_codes;
  wrong_length.num_samples += 48000;
  EXPECT_TRUE(testing::IsInvalidArgument(stereo->Decode(wrong_length, {}).status(), "segments"));
  Codes bad_scale = stereo_fixture->expected_codes;
  bad_scale.scales[1] = std::nanf("");
  EXPECT_TRUE(testing::IsInvalidArgument(stereo->Decode(bad_scale, {}).status(), "scale"));
}

TEST_F(EncodecBackendTest, MissingOrBrokenWeightsFailLoad) {
  const absl::Status missing =
      CreateBackend({.model = "encodec", .weights = "tests/fixtures/encodec24_tiny_bw6/absent.th"})
          .status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("absent.th"), std::string::npos) << missing;
  const std::string truncated =
      (std::filesystem::path(::testing::TempDir()) / "truncated.th").string();
  std::ifstream in("tests/fixtures/encodec24_tiny_bw6/weights.th", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  std::shared_ptr<CodecBackend> broken = MakeBackend(kCase, truncated);
  ASSERT_NE(broken, nullptr);
  const absl::Status status = broken->Load();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find(truncated), std::string::npos) << status;
  EXPECT_FALSE(broken->IsLoaded());
}

// Hugging Face model.safetensors files (renamed keys, same tensors; weight
// norm as weight_g/weight_v or, from newer transformers, as
// parametrizations) load and decode exactly like the upstream .th.
TEST_F(EncodecBackendTest, LoadsHuggingFaceLayouts) {
  absl::StatusOr<io::Checkpoint> upstream =
      io::LoadCheckpoint("tests/fixtures/encodec24_tiny_bw6/weights.th");
  ASSERT_TRUE(upstream.ok());
  for (bool parametrized : {false, true}) {
    io::StateDict hf;
    for (const auto& [key, tensor] : upstream->tensors) {
      // transformers' convert_encodec_checkpoint_to_pytorch.py mapping.
      std::string renamed = absl::StrReplaceAll(key, {{"quantizer.vq.layers.", "quantizer.layers."},
                                                      {"._codebook.", ".codebook."},
                                                      {".model.", ".layers."},
                                                      {".conv.conv.", ".conv."},
                                                      {".convtr.convtr.", ".conv."}});
      if (parametrized) {
        renamed =
            absl::StrReplaceAll(renamed, {{".weight_g", ".parametrizations.weight.original0"},
                                          {".weight_v", ".parametrizations.weight.original1"}});
      }
      hf[renamed] = tensor;
    }
    ASSERT_TRUE(hf.count(parametrized ? "decoder.layers.3.conv.parametrizations.weight.original0"
                                      : "decoder.layers.3.conv.weight_g"));  // Transposed conv.
    ASSERT_TRUE(hf.count("quantizer.layers.0.codebook.embed"));
    const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                      (parametrized ? "hf_encodec_parametrized" : "hf_encodec");
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file("tests/fixtures/encodec24_tiny_bw6/config.json", dir / "config.json",
                               std::filesystem::copy_options::overwrite_existing);
    std::ofstream(dir / "model.safetensors", std::ios::binary) << *io::SerializeSafetensors(hf);

    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.model = "encodec", .weights = dir.string()});
    ASSERT_TRUE(backend.ok()) << backend.status();
    const absl::Status loaded = (*backend)->Load();
    ASSERT_TRUE(loaded.ok()) << loaded;
    absl::StatusOr<Audio> decoded = (*backend)->Decode(fixture_.expected_codes, {});
    ASSERT_TRUE(decoded.ok());
    EXPECT_LE(testing::MaxAbsDiff(*decoded, fixture_.expected_decode), 1e-4);
  }
}

TEST(CodecFactoryTest, UnknownModelListsKnownOnes) {
  const absl::Status status = CreateBackend({.model = "wavenet"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("encodec_24khz"), std::string::npos) << status;
  absl::StatusOr<std::shared_ptr<CodecBackend>> unloaded =
      CreateBackend({.model = "encodec_48khz"});
  ASSERT_TRUE(unloaded.ok());
  EXPECT_EQ((*unloaded)->description().channels, 2);
  EXPECT_EQ((*unloaded)->Load().code(), absl::StatusCode::kFailedPrecondition);
}

// Sizes far beyond any EnCodec's are refused by name, before anything is
// built (the DAC and Mimi configs' bounds, config_bounds.h).
TEST(EncodecConfigTest, AbsurdFieldsAreRefusedByName) {
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"sampling_rate", -5}}, "sampling_rate is -5"},
      {{{"audio_channels", 1000}}, "audio_channels is 1000"},
      {{{"hidden_size", 2000000000}}, "hidden_size is 2000000000"},
      {{{"num_filters", 1 << 20}}, "num_filters is 1048576"},
      {{{"num_residual_layers", 100000}}, "num_residual_layers is 100000"},
      {{{"upsampling_ratios", {8, 0}}}, "upsampling_ratios is 0"},
      {{{"upsampling_ratios", {64, 64, 64}}}, "the hop (product of upsampling_ratios) is 65537"},
      {{{"num_filters", 8192}}, "the widest layer, num_filters << upsampling_ratios is 65537"},
      {{{"kernel_size", 1 << 20}}, "kernel_size is 1048576"},
      {{{"num_residual_layers", 50}, {"dilation_growth_rate", 8}}, "the largest dilation"},
      {{{"num_lstm_layers", -1}}, "num_lstm_layers is -1"},
      {{{"trim_right_ratio", 2.0}}, "trim_right_ratio is 2"},
      {{{"codebook_size", 1 << 30}}, "codebook_size is 1073741824"},
      {{{"target_bandwidths", nlohmann::json::array()}}, "the number of target_bandwidths is 0"},
      {{{"target_bandwidths", {1.5, 1e300}}}, "target_bandwidths is 1e+300"},
      {{{"target_bandwidths", {1.5, 1e5}}}, "the quantisers of the largest of target_bandwidths"},
      {{{"chunk_length_s", 1e9}}, "chunk_length_s is 1e+09"},
      {{{"chunk_length_s", 1.0}, {"overlap", 5.0}}, "overlap is 5"},
  };
  for (const auto& [fields, named] : cases) {
    EXPECT_TRUE(testing::IsInvalidArgument(
        EncodecConfigFromJson(fields, *EncodecPreset("encodec_24khz")).status(), named))
        << fields.dump();
  }
  EXPECT_TRUE(
      EncodecConfigFromJson(nlohmann::json::object(), *EncodecPreset("encodec_48khz")).ok());
}

}  // namespace
}  // namespace codec::encodec
