// Offline parity of the Mimi network with upstream MimiModel.encode /
// decode on the fixtures built by the reference (tests/fixtures/mimi_*).

#include "backends/mimi/mimi_model.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "backends/core/status_macros.h"
#include "backends/io/checkpoint.h"
#include "backends/io/npz.h"
#include "backends/io/wav.h"
#include "tests/testing/fixture.h"

namespace codec::mimi {
namespace {

struct MimiCase {
  std::shared_ptr<MimiModel> model;
  at::Tensor input;  // [channels, T]
  int64_t n_q = 0;
  io::NpzFile expected;
};

absl::StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("no " + path);
  return nlohmann::json::parse(in);
}

at::Tensor FloatTensor(const io::NpyArray& array) {
  const std::vector<float> values = *io::AsFloat32(array);
  return at::tensor(values).view(array.shape);
}

at::Tensor LongTensor(const io::NpyArray& array) {
  const std::vector<int64_t> values = *io::AsInt64(array);
  return at::tensor(values).view(array.shape);
}

absl::StatusOr<MimiCase> LoadCase(const std::string& name) {
  const std::string dir = "tests/fixtures/" + name + "/";
  MimiCase c;
  ASSIGN_OR_RETURN(nlohmann::json config_json, ReadJson(dir + "config.json"));
  ASSIGN_OR_RETURN(nlohmann::json meta, ReadJson(dir + "meta.json"));
  ASSIGN_OR_RETURN(MimiConfig config, MimiConfigFromJson(config_json, MimiConfig()));
  ASSIGN_OR_RETURN(io::Checkpoint checkpoint, io::LoadCheckpoint(dir + "weights.safetensors"));
  ASSIGN_OR_RETURN(c.model, BuildMimiModel(config, std::move(checkpoint)));
  ASSIGN_OR_RETURN(Audio audio, io::ReadWav(dir + "input.wav"));
  c.input = at::tensor(audio.samples).view({audio.num_frames(), audio.channels}).t().contiguous();
  c.n_q = meta.at("n_q").get<int64_t>();
  ASSIGN_OR_RETURN(c.expected, io::ReadNpz(dir + "expected.npz"));
  return c;
}

class MimiParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { testing::UseReferenceThreadCount(); }
};

TEST_P(MimiParityTest, LatentAndCodesEqualTheReference) {
  absl::StatusOr<MimiCase> c = LoadCase(GetParam());
  ASSERT_TRUE(c.ok()) << c.status();
  const at::Tensor latent = c->model->EncodeLatent(c->input);
  const at::Tensor expected_latent = FloatTensor(c->expected.at("latent"));
  ASSERT_EQ(latent.sizes(), expected_latent.sizes());
  const float latent_error = (latent - expected_latent).abs().max().item<float>();
  EXPECT_LT(latent_error, 1e-4);

  const at::Tensor codes = c->model->Encode(c->input, c->n_q);
  const at::Tensor expected = LongTensor(c->expected.at("codes"));
  ASSERT_EQ(codes.sizes(), expected.sizes());
  const int64_t differing = codes.ne(expected).sum().item<int64_t>();
  EXPECT_EQ(differing, 0) << "codes differ";
  printf("%s: latent max abs error %.3g, %lld of %lld codes differ\n", GetParam().c_str(),
         latent_error, static_cast<long long>(differing), static_cast<long long>(codes.numel()));
}

TEST_P(MimiParityTest, DecodeOfTheReferenceCodesEqualsTheReference) {
  absl::StatusOr<MimiCase> c = LoadCase(GetParam());
  ASSERT_TRUE(c.ok()) << c.status();
  const at::Tensor codes = LongTensor(c->expected.at("codes"));
  const at::Tensor decoded = c->model->Decode(codes);
  const at::Tensor expected = FloatTensor(c->expected.at("decoded"));
  ASSERT_EQ(decoded.size(0), expected.size(0));
  ASSERT_EQ(decoded.size(1), codes.size(1) * c->model->config().hop_length());
  ASSERT_GE(decoded.size(1), expected.size(1));
  const at::Tensor trimmed = decoded.narrow(1, 0, expected.size(1));
  const float error = (trimmed - expected).abs().max().item<float>();
  EXPECT_LT(error, 1e-4);
  printf("%s: decode max abs error %.3g\n", GetParam().c_str(), error);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MimiParityTest,
                         ::testing::Values("mimi_tiny_nq8", "mimi_tiny_nq32", "mimi_tiny_ctx8"));

TEST(MimiConfigTest, PresetIsThePublishedTokenizer) {
  absl::StatusOr<MimiConfig> config = MimiPreset("mimi_24khz");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->hop_length(), 1920);
  EXPECT_EQ(config->downsample_stride(), 2);
  EXPECT_TRUE(config->Validate().ok());
}

TEST(MimiConfigTest, OutOfRangeAndUnsupportedFieldsAreNamed) {
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"quantizer", {{"n_q", 0}}}}, MimiConfig()).status(), "quantizer.n_q"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"transformer", {{"num_heads", 7}}}}, MimiConfig()).status(),
      "num_heads"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"seanet", {{"causal", false}}}}, MimiConfig()).status(), "causal"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"frame_rate", 11.0}}, MimiConfig()).status(), "frame_rate"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"seanet", {{"ratios", {8, 6, 0}}}}}, MimiConfig()).status(),
      "seanet.ratios"));
  EXPECT_TRUE(testing::IsInvalidArgument(
      MimiConfigFromJson({{"default_n_q", 33}}, MimiConfig()).status(), "default_n_q"));
}

TEST(MimiCheckpointTest, AMissingCodebookUsageIsNamed) {
  io::StateDict published;
  published["quantizer.rvq_first.vq.layers.0._codebook.embedding_sum"] = at::ones({4, 2});
  EXPECT_TRUE(testing::IsInvalidArgument(MimiStateDict(published).status(), "cluster_usage"));
}

}  // namespace
}  // namespace codec::mimi
