// A model built from each preset expects exactly the tensors of the
// published checkpoint (tests/fixtures/manifests), so the real files load.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "backends/encodec/encodec_model.h"
#include "tests/testing/manifest.h"

namespace codec::encodec {
namespace {

class EncodecManifestTest : public ::testing::TestWithParam<std::string> {
 protected:
  absl::Status Build(io::StateDict tensors) {
    absl::StatusOr<EncodecConfig> config = EncodecPreset(GetParam());
    if (!config.ok()) return config.status();
    return BuildEncodecModel(*config, io::Checkpoint{std::move(tensors), {}}).status();
  }
  io::StateDict Manifest() {
    absl::StatusOr<io::StateDict> dict = testing::StateDictFromManifest(GetParam());
    EXPECT_TRUE(dict.ok()) << dict.status();
    return dict.ok() ? *dict : io::StateDict{};
  }
};

TEST_P(EncodecManifestTest, PresetExpectsExactlyThePublishedTensors) {
  const io::StateDict manifest = Manifest();
  ASSERT_FALSE(manifest.empty());
  const absl::Status status = Build(manifest);
  EXPECT_TRUE(status.ok()) << status;
}

TEST_P(EncodecManifestTest, MissingTensorIsNamed) {
  io::StateDict tensors = Manifest();
  tensors.erase("decoder.model.0.conv.conv.bias");
  const absl::Status status = Build(tensors);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("missing: decoder.model.0.conv.conv.bias"), std::string::npos)
      << status;
}

TEST_P(EncodecManifestTest, UnexpectedTensorIsNamed) {
  io::StateDict tensors = Manifest();
  tensors["encoder.model.99.conv.conv.bias"] = at::zeros({3});
  const absl::Status status = Build(tensors);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("unexpected: encoder.model.99.conv.conv.bias"),
            std::string::npos)
      << status;
}

TEST_P(EncodecManifestTest, MisshapedTensorIsNamedWithBothShapes) {
  io::StateDict tensors = Manifest();
  tensors["quantizer.vq.layers.3._codebook.embed"] = at::zeros({1024, 64});
  const absl::Status status = Build(tensors);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("quantizer.vq.layers.3._codebook.embed (model 1024x128, "
                                  "checkpoint 1024x64)"),
            std::string::npos)
      << status;
}

INSTANTIATE_TEST_SUITE_P(Presets, EncodecManifestTest,
                         ::testing::Values("encodec_24khz", "encodec_48khz"));

}  // namespace
}  // namespace codec::encodec
