// Every preset of every family expects exactly the tensors of the published
// checkpoint (tests/fixtures/manifests/<preset>.tsv), so the real files
// load: a checkpoint with those names and shapes loads through the normal
// path, and each kind of mismatch is reported by name. The same holds for
// DAC's Hugging Face folders (descript/dac_*), under their own names.

#include "tests/testing/manifest.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "backends/core/status_macros.h"
#include "backends/dac/dac_config.h"
#include "backends/factory/codec_factory.h"
#include "tests/testing/dac_hf_layout.h"
#include "tests/testing/fixture.h"

namespace codec {
namespace {

class ManifestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<io::StateDict> manifest = testing::StateDictFromManifest(GetParam());
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    manifest_ = *std::move(manifest);
  }

  // Loads `tensors` as a .safetensors checkpoint of the preset under test,
  // or, given a `config`, as a model folder with that config.json.
  absl::StatusOr<std::shared_ptr<CodecBackend>> LoadBackend(
      const io::StateDict& tensors, const nlohmann::json& config = nullptr) {
    const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                      (config.is_null() ? GetParam() : "folder_" + GetParam());
    RETURN_IF_ERROR(testing::WriteModelFolder(tensors, config, dir.string()));
    BackendSpec spec{.model = GetParam(), .weights = (dir / "model.safetensors").string()};
    if (!config.is_null()) {
      spec.model = "dac";  // The family alone: the folder says the rest.
      spec.weights = dir.string();
    }
    ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend, CreateBackend(spec));
    RETURN_IF_ERROR(backend->Load());
    return backend;
  }
  absl::Status Load(const io::StateDict& tensors) { return LoadBackend(tensors).status(); }

  // A plain (not weight-normalised) tensor name of `tensors`.
  static std::string PlainBias(const io::StateDict& tensors) {
    for (const auto& [key, tensor] : tensors) {
      if (absl::EndsWith(key, ".bias")) return key;
    }
    return "";
  }

  io::StateDict manifest_;
};

TEST_P(ManifestTest, PresetLoadsExactlyThePublishedTensors) {
  const absl::Status status = Load(manifest_);
  EXPECT_TRUE(status.ok()) << status;
}

TEST_P(ManifestTest, MissingUnexpectedAndMisshapedTensorsAreNamed) {
  const std::string bias = PlainBias(manifest_);
  ASSERT_FALSE(bias.empty());

  io::StateDict missing = manifest_;
  missing.erase(bias);
  EXPECT_TRUE(testing::IsInvalidArgument(Load(missing), "missing: " + bias));

  io::StateDict unexpected = manifest_;
  unexpected["extra.layer.bias"] = at::zeros({3});
  EXPECT_TRUE(testing::IsInvalidArgument(Load(unexpected), "unexpected: extra.layer.bias"));

  io::StateDict misshaped = manifest_;
  misshaped[bias] = at::zeros({manifest_.at(bias).size(0) + 1});
  EXPECT_TRUE(testing::IsInvalidArgument(Load(misshaped), "mis-shaped: " + bias));
}

INSTANTIATE_TEST_SUITE_P(AllPresets, ManifestTest, ::testing::ValuesIn(ListPresets()));

// The published checkpoint as the hub's descript/dac_* folder holds it:
// renamed to transformers' DacModel names, with its config.json.
class DacHuggingFaceManifestTest : public ManifestTest {
 protected:
  void SetUp() override {
    ManifestTest::SetUp();
    absl::StatusOr<dac::DacConfig> config = dac::DacPreset(GetParam());
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = testing::DacHuggingFaceConfig(*config);
    for (testing::WeightNormForm form :
         {testing::WeightNormForm::kPairs, testing::WeightNormForm::kParametrizations}) {
      absl::StatusOr<io::StateDict> hf =
          testing::DacStateDictToHuggingFace(manifest_, *config, form);
      ASSERT_TRUE(hf.ok()) << hf.status();
      hf_.push_back(*std::move(hf));
    }
  }

  nlohmann::json config_;
  std::vector<io::StateDict> hf_;  // Weight norm as pairs, as parametrizations.
};

TEST_P(DacHuggingFaceManifestTest, FolderLoadsExactlyThePublishedTensors) {
  absl::StatusOr<std::shared_ptr<CodecBackend>> upstream = CreateBackend({.model = GetParam()});
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  for (const io::StateDict& hf : hf_) {
    ASSERT_TRUE(hf.count("decoder.block.0.conv_t1.bias"));
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend = LoadBackend(hf, config_);
    ASSERT_TRUE(backend.ok()) << backend.status();
    const CodecDescription& got = (*backend)->description();
    const CodecDescription& want = (*upstream)->description();
    EXPECT_EQ(got.sample_rate, want.sample_rate);
    EXPECT_EQ(got.hop_length, want.hop_length);
    EXPECT_EQ(got.codebooks_per_level, want.codebooks_per_level);
  }
}

TEST_P(DacHuggingFaceManifestTest, MismatchesAreNamedAsTheFolderNamesThem) {
  const io::StateDict& hf = hf_[0];
  const std::string bias = "encoder.block.2.res_unit3.conv2.bias";
  ASSERT_TRUE(hf.count(bias));

  io::StateDict missing = hf;
  missing.erase(bias);
  EXPECT_TRUE(
      testing::IsInvalidArgument(LoadBackend(missing, config_).status(), "missing: " + bias));

  io::StateDict unexpected = hf;
  unexpected["decoder.block.0.res_unit1.conv3.bias"] = at::zeros({3});
  EXPECT_TRUE(testing::IsInvalidArgument(LoadBackend(unexpected, config_).status(),
                                         "unexpected: decoder.block.0.res_unit1.conv3.bias"));

  io::StateDict misshaped = hf;
  misshaped[bias] = at::zeros({hf.at(bias).size(0) + 1});
  EXPECT_TRUE(
      testing::IsInvalidArgument(LoadBackend(misshaped, config_).status(), "mis-shaped: " + bias));
}

INSTANTIATE_TEST_SUITE_P(DacPresets, DacHuggingFaceManifestTest,
                         ::testing::Values("dac_16khz", "dac_24khz", "dac_44khz"));

}  // namespace
}  // namespace codec
