// Every preset of every family expects exactly the tensors of the published
// checkpoint (tests/fixtures/manifests/<preset>.tsv), so the real files
// load: a checkpoint with those names and shapes loads through the normal
// path, and each kind of mismatch is reported by name.

#include "tests/testing/fixture.h"
#include "tests/testing/manifest.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/match.h"
#include "backends/codec_factory.h"
#include "backends/core/status_macros.h"

namespace codec {
namespace {

class ManifestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<io::StateDict> manifest = testing::StateDictFromManifest(GetParam());
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    manifest_ = *std::move(manifest);
  }

  // Loads `tensors` as a .safetensors checkpoint of the preset under test.
  absl::Status Load(const io::StateDict& tensors) {
    const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / GetParam();
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "model.safetensors").string();
    RETURN_IF_ERROR(testing::WriteSafetensorsFile(tensors, path));
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
        CreateBackend({.model = GetParam(), .weights = path});
    if (!backend.ok()) return backend.status();
    return (*backend)->Load();
  }

  // A plain (not weight-normalised) tensor name of the checkpoint.
  std::string PlainBias() const {
    for (const auto& [key, tensor] : manifest_) {
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
  const std::string bias = PlainBias();
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

}  // namespace
}  // namespace codec
