// Mimi as a backend: both attention windows against the reference's own
// arrays, offline and streamed in chunks of 1, 2, 3 and 7 frames, and its
// quantiser selection. (Offline parity and streaming in the default window
// also run in tests/backends' fixture-wide tests.)

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/checkpoint.h"
#include "backends/io/npz.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/mimi/mimi_config.h"
#include "tests/testing/fixture.h"
#include "tests/testing/manifest.h"
#include "tests/testing/mimi_hf_layout.h"

namespace codec {
namespace {

constexpr int64_t kChunkFrames[] = {1, 2, 3, 7};

// expected.npz's arrays for a window: the encode of the input, and the
// decode of the offline codes.
struct Window {
  const char* preset;
  const char* codes;
  const char* decoded;
};
constexpr Window kOffline = {"mimi_24khz", "codes", "decoded"};
constexpr Window kMoshiStreaming = {"mimi_24khz_moshi", "codes_stream", "decoded_stream"};

absl::StatusOr<std::shared_ptr<CodecBackend>> LoadMimi(const std::string& fixture,
                                                       const Window& window) {
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                   CreateBackend({.id = fixture,
                                  .model = window.preset,
                                  .weights = "tests/fixtures/" + fixture,
                                  .device = testing::TestDevice()}));
  RETURN_IF_ERROR(backend->Load());
  return backend;
}

Codes ExpectedCodes(const io::NpzFile& npz, const char* name, int64_t num_samples) {
  Codes codes;
  codes.levels.push_back(
      nn::LevelFromTensor(at::tensor(*io::AsInt64(npz.at(name))).view(npz.at(name).shape)));
  codes.num_samples = num_samples;
  return codes;
}

Audio ExpectedAudio(const io::NpzFile& npz, const char* name, int sample_rate) {
  Audio audio;
  audio.sample_rate = sample_rate;
  audio.channels = 1;
  audio.samples = *io::AsFloat32(npz.at(name));
  return audio;
}

// Encodes `input` through a stream in chunks of `frames` code frames.
absl::StatusOr<Codes> EncodeInChunks(const CodecBackend& backend, const Audio& input,
                                     const EncodeOptions& options, int64_t frames) {
  ASSIGN_OR_RETURN(std::unique_ptr<EncodeStream> stream, backend.OpenEncodeStream(options));
  const int64_t chunk = frames * backend.description().hop_length;
  std::vector<Codes> parts;
  for (int64_t first = 0; first < input.num_frames(); first += chunk) {
    const int64_t last = std::min(input.num_frames(), first + chunk);
    ASSIGN_OR_RETURN(Codes part, stream->Push(SliceFrames(input, first, last)));
    parts.push_back(std::move(part));
  }
  ASSIGN_OR_RETURN(Codes tail, stream->Finish());
  parts.push_back(std::move(tail));
  return ConcatCodes(parts);
}

absl::StatusOr<Audio> DecodeInChunks(const CodecBackend& backend, const Codes& codes,
                                     int64_t frames) {
  ASSIGN_OR_RETURN(std::unique_ptr<DecodeStream> stream,
                   backend.OpenDecodeStream(DecodeOptions(), codes.num_samples));
  std::vector<Audio> parts;
  const int64_t total = codes.levels[0].frames;
  for (int64_t first = 0; first < total; first += frames) {
    ASSIGN_OR_RETURN(Audio part,
                     stream->Push(SliceCodes(codes, first, std::min(total, first + frames))));
    parts.push_back(std::move(part));
  }
  ASSIGN_OR_RETURN(Audio tail, stream->Finish());
  parts.push_back(std::move(tail));
  return ConcatAudio(parts);
}

class MimiWindowTest : public ::testing::TestWithParam<std::tuple<std::string, bool>> {
 protected:
  void SetUp() override { testing::UseReferenceThreadCount(); }
  const Window& window() const { return std::get<1>(GetParam()) ? kMoshiStreaming : kOffline; }
};

TEST_P(MimiWindowTest, OfflineAndEveryChunkingEqualTheReference) {
  const std::string fixture_name = std::get<0>(GetParam());
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(fixture_name);
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend = LoadMimi(fixture_name, window());
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::StatusOr<io::NpzFile> npz = io::ReadNpz(fixture->dir + "/expected.npz");
  ASSERT_TRUE(npz.ok()) << npz.status();
  const Codes expected = ExpectedCodes(*npz, window().codes, fixture->input.num_frames());
  const Codes reference_codes = ExpectedCodes(*npz, "codes", fixture->input.num_frames());
  const Audio expected_audio = ExpectedAudio(*npz, window().decoded, fixture->input.sample_rate);
  const EncodeOptions options = fixture->ReferenceEncodeOptions();

  absl::StatusOr<Codes> offline = (*backend)->Encode(fixture->input, options);
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_EQ(testing::CompareCodes(*offline, expected).identical_fraction, 1.0);
  absl::StatusOr<Audio> decoded = (*backend)->Decode(reference_codes, DecodeOptions());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_LT(testing::MaxAbsDiff(*decoded, expected_audio), 1e-4);

  for (int64_t frames : kChunkFrames) {
    absl::StatusOr<Codes> streamed = EncodeInChunks(**backend, fixture->input, options, frames);
    ASSERT_TRUE(streamed.ok()) << streamed.status();
    const testing::CodesAgreement agreement = testing::CompareCodes(*streamed, expected);
    EXPECT_TRUE(agreement.same_shape) << frames << "-frame chunks";
    EXPECT_EQ(agreement.identical_fraction, 1.0) << frames << "-frame chunks";
    absl::StatusOr<Audio> audio = DecodeInChunks(**backend, reference_codes, frames);
    ASSERT_TRUE(audio.ok()) << audio.status();
    const double error = testing::MaxAbsDiff(*audio, expected_audio);
    EXPECT_LT(error, 1e-4) << frames << "-frame chunks";
    printf("%s, %s window, %lld-frame chunks: codes %.4f%% identical, decode max abs error %.3g\n",
           fixture_name.c_str(), window().preset, static_cast<long long>(frames),
           100 * agreement.identical_fraction, error);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MimiWindowTest,
                         ::testing::Combine(::testing::Values("mimi_tiny_nq8", "mimi_tiny_nq32",
                                                              "mimi_tiny_ctx8"),
                                            ::testing::Bool()));

// Past the context the two windows are two functions: ctx8's 3 s show it.
TEST(MimiWindowsTest, TheWindowsDifferPastTheContext) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("mimi_tiny_ctx8");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<std::shared_ptr<CodecBackend>> offline = LoadMimi("mimi_tiny_ctx8", kOffline);
  absl::StatusOr<std::shared_ptr<CodecBackend>> moshi = LoadMimi("mimi_tiny_ctx8", kMoshiStreaming);
  ASSERT_TRUE(offline.ok() && moshi.ok());
  const EncodeOptions options = fixture->ReferenceEncodeOptions();
  absl::StatusOr<Codes> a = (*offline)->Encode(fixture->input, options);
  absl::StatusOr<Codes> b = (*moshi)->Encode(fixture->input, options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LT(testing::CompareCodes(*a, *b).identical_fraction, 0.9);
}

// The fixture's weights converted as transformers converts the published
// tokenizer for kyutai/mimi, loaded from a Hugging Face folder with
// transformers' config.json: the same codes and audio as the reference.
class MimiHuggingFaceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { testing::UseReferenceThreadCount(); }
};

TEST_P(MimiHuggingFaceTest, AHubFolderEncodesAndDecodesAsTheReference) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(GetParam());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  std::ifstream config_file(fixture->dir + "/config.json");
  absl::StatusOr<mimi::MimiConfig> config =
      mimi::MimiConfigFromJson(nlohmann::json::parse(config_file), mimi::MimiConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<io::Checkpoint> published =
      io::LoadCheckpoint(fixture->dir + "/weights.safetensors");
  ASSERT_TRUE(published.ok()) << published.status();
  const io::StateDict hub = testing::MimiStateDictToHuggingFace(published->tensors, *config);
  ASSERT_EQ(hub.count("quantizer.semantic_residual_vector_quantizer.layers.0.codebook.embed_sum"),
            1u);
  const std::string dir = ::testing::TempDir() + "/" + GetParam() + "_hf";
  ASSERT_TRUE(testing::WriteModelFolder(hub, testing::MimiHuggingFaceConfig(*config), dir).ok());

  absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
      CreateBackend({.id = "hub", .model = "mimi", .weights = dir});
  ASSERT_TRUE(backend.ok()) << backend.status();
  ASSERT_TRUE((*backend)->Load().ok());
  absl::StatusOr<Codes> codes =
      (*backend)->Encode(fixture->input, fixture->ReferenceEncodeOptions());
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(testing::CompareCodes(*codes, fixture->expected_codes).identical_fraction, 1.0);
  absl::StatusOr<Audio> audio = (*backend)->Decode(fixture->expected_codes, DecodeOptions());
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_LT(testing::MaxAbsDiff(*audio, fixture->expected_decode), 1e-4);

  // A missing projection is named.
  io::StateDict cut = hub;
  cut.erase("decoder_transformer.layers.1.self_attn.k_proj.weight");
  ASSERT_TRUE(testing::WriteModelFolder(cut, testing::MimiHuggingFaceConfig(*config), dir).ok());
  absl::StatusOr<std::shared_ptr<CodecBackend>> broken =
      CreateBackend({.id = "broken", .model = "mimi", .weights = dir});
  ASSERT_TRUE(broken.ok()) << broken.status();
  EXPECT_TRUE(testing::IsInvalidArgument((*broken)->Load(),
                                         "decoder_transformer.layers.1.self_attn.k_proj.weight"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MimiHuggingFaceTest,
                         ::testing::Values("mimi_tiny_nq8", "mimi_tiny_ctx8"));

TEST(MimiQuantisersTest, BandwidthSelectsWholeLevels) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("mimi_tiny_nq8");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend = LoadMimi("mimi_tiny_nq8", kOffline);
  ASSERT_TRUE(backend.ok()) << backend.status();
  // 256 entries: 8 bits a level at 12.5 Hz, 0.1 kbps.
  EncodeOptions by_bandwidth;
  by_bandwidth.bandwidth_kbps = 0.8;
  absl::StatusOr<Codes> codes = (*backend)->Encode(fixture->input, by_bandwidth);
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(testing::CompareCodes(*codes, fixture->expected_codes).identical_fraction, 1.0);
  by_bandwidth.bandwidth_kbps = 0.85;
  EXPECT_TRUE(testing::IsInvalidArgument((*backend)->Encode(fixture->input, by_bandwidth).status(),
                                         "not a whole number"));
  EncodeOptions too_many;
  too_many.n_q = 33;
  EXPECT_TRUE(testing::IsInvalidArgument((*backend)->OpenEncodeStream(too_many).status(),
                                         "n_q 33 is out of range"));
  // The default is upstream get_mimi's 8 levels.
  absl::StatusOr<Codes> by_default = (*backend)->Encode(fixture->input, EncodeOptions());
  ASSERT_TRUE(by_default.ok());
  EXPECT_EQ(by_default->levels[0].num_codebooks, 8);
}

}  // namespace
}  // namespace codec
