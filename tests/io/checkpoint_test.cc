// Checkpoint reading on the real fixture files, and every way they can be bad.

#include "backends/io/checkpoint.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "backends/io/pickle_reader.h"
#include "backends/io/read_file.h"
#include "backends/io/safetensors.h"
#include "backends/io/zip_reader.h"
#include "backends/io/zip_writer.h"
#include "backends/nn/weight_norm.h"

namespace codec::io {
namespace {

constexpr char kEncodecWeights[] = "tests/fixtures/encodec24_tiny_bw6/weights.th";
constexpr char kDacWeights[] = "tests/fixtures/dac16_tiny/weights.pth";
constexpr char kSnacWeights[] = "tests/fixtures/snac24_tiny/pytorch_model.bin";

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = TempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(CheckpointTest, ReadsUpstreamEncodecStateDict) {
  absl::StatusOr<Checkpoint> checkpoint = LoadCheckpoint(kEncodecWeights);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_TRUE(checkpoint->config.is_null());
  const at::Tensor& v = checkpoint->tensors.at("encoder.model.0.conv.conv.weight_v");
  EXPECT_EQ(v.sizes(), (at::IntArrayRef{4, 1, 7}));
  EXPECT_EQ(v.scalar_type(), at::kFloat);
  EXPECT_TRUE(checkpoint->tensors.count("quantizer.vq.layers.0._codebook.embed"));
  EXPECT_TRUE(checkpoint->tensors.count("encoder.model.13.lstm.weight_ih_l1"));
}

TEST(CheckpointTest, ReadsDacMetadataKwargsAsConfig) {
  absl::StatusOr<Checkpoint> checkpoint = LoadCheckpoint(kDacWeights);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  EXPECT_EQ(checkpoint->config.at("sample_rate"), 16000);
  EXPECT_EQ(checkpoint->config.at("encoder_rates"), nlohmann::json({2, 4, 5, 8}));
  EXPECT_TRUE(checkpoint->config.at("latent_dim").is_null());
  EXPECT_FALSE(checkpoint->tensors.empty());
}

TEST(CheckpointTest, FoldsParametrizedWeightNorm) {
  absl::StatusOr<Checkpoint> checkpoint = LoadCheckpoint(kSnacWeights);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  StateDict& tensors = checkpoint->tensors;
  std::string g_key;
  for (const auto& [key, tensor] : tensors) {
    if (key.find(".parametrizations.weight.original0") != std::string::npos) g_key = key;
  }
  ASSERT_FALSE(g_key.empty());
  const std::string base = g_key.substr(0, g_key.find(".parametrizations."));
  const at::Tensor g = tensors.at(g_key);
  const at::Tensor v = tensors.at(base + ".parametrizations.weight.original1");
  ASSERT_TRUE(nn::FoldWeightNorm(tensors).ok());
  EXPECT_FALSE(tensors.count(g_key));
  // Row i of the folded weight is v_i scaled to norm g_i.
  const at::Tensor w = tensors.at(base + ".weight");
  for (int64_t i = 0; i < w.size(0); ++i) {
    EXPECT_NEAR(w[i].norm().item<float>(), std::abs(g.flatten()[i].item<float>()), 1e-5);
    EXPECT_TRUE(
        at::allclose(w[i] / w[i].norm(), v[i] / v[i].norm() * g.flatten()[i].sign(), 1e-5, 1e-6));
  }
}

TEST(CheckpointTest, WeightNormHalfPairIsNamed) {
  StateDict dict;
  dict["layer.weight_v"] = at::ones({2, 1, 3});
  const absl::Status status = nn::FoldWeightNorm(dict);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("layer.weight_g"), std::string::npos) << status;
  dict["layer.weight_g"] = at::ones({3, 1, 1});
  EXPECT_EQ(nn::FoldWeightNorm(dict).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointTest, SafetensorsRoundTrip) {
  absl::StatusOr<Checkpoint> original = LoadCheckpoint(kEncodecWeights);
  ASSERT_TRUE(original.ok());
  absl::StatusOr<std::string> bytes = SerializeSafetensors(original->tensors);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<Checkpoint> back = LoadCheckpoint(WriteTemp("w.safetensors", *bytes));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->tensors.size(), original->tensors.size());
  for (const auto& [key, tensor] : original->tensors) {
    EXPECT_TRUE(at::equal(back->tensors.at(key), tensor)) << key;
  }
}

TEST(CheckpointTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadCheckpoint("tests/fixtures/no_such.th").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CheckpointTest, TruncatedFilesAreDataLoss) {
  for (const char* path : {kEncodecWeights, kDacWeights, kSnacWeights}) {
    absl::StatusOr<std::string> bytes = ReadFileBytes(path);
    ASSERT_TRUE(bytes.ok());
    for (size_t keep : {bytes->size() / 2, bytes->size() - 10, size_t{100}, size_t{3}}) {
      const absl::StatusOr<Checkpoint> checkpoint =
          LoadCheckpoint(WriteTemp("truncated.th", bytes->substr(0, keep)));
      EXPECT_EQ(checkpoint.status().code(), absl::StatusCode::kDataLoss)
          << path << " cut to " << keep << ": " << checkpoint.status();
    }
  }
}

TEST(CheckpointTest, CorruptBytesNeverCrash) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(kEncodecWeights);
  ASSERT_TRUE(bytes.ok());
  // Flip bytes across the whole file: headers, pickle and tensor data.
  for (size_t pos = 0; pos < bytes->size(); pos += bytes->size() / 97) {
    std::string corrupt = *bytes;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ 0x5A);
    const absl::StatusOr<Checkpoint> checkpoint = LoadCheckpoint(WriteTemp("corrupt.th", corrupt));
    if (!checkpoint.ok()) {
      EXPECT_NE(checkpoint.status().code(), absl::StatusCode::kInternal) << checkpoint.status();
    }
  }
}

TEST(CheckpointTest, CorruptPickleIsRejected) {
  absl::StatusOr<ZipReader> zip = ZipReader::OpenFile(kEncodecWeights);
  ASSERT_TRUE(zip.ok());
  absl::StatusOr<std::string> pickle = zip->Read("weights/data.pkl");
  ASSERT_TRUE(pickle.ok());
  EXPECT_TRUE(UnpickleCheckpoint(*pickle).ok());
  EXPECT_EQ(UnpickleCheckpoint(pickle->substr(0, pickle->size() / 2)).status().code(),
            absl::StatusCode::kDataLoss);
  // A pickle that calls os.system must never run: the global is refused.
  const std::string evil =
      "\x80\x02"
      "cos\nsystem\n"
      "X\x02\x00\x00\x00ls"
      "\x85R.";
  const absl::Status status = UnpickleCheckpoint(evil).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("os.system"), std::string::npos) << status;
}

TEST(CheckpointTest, LegacyAndUnknownFormatsAreNamed) {
  const std::string legacy("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  const absl::Status status = LoadCheckpoint(WriteTemp("legacy.th", legacy)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("legacy"), std::string::npos) << status;
  EXPECT_EQ(LoadCheckpoint(WriteTemp("text.th", "hello, not a checkpoint")).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(CheckpointTest, DeeplyNestedMetadataIsRefused) {
  auto text = [](const std::string& s) {
    return std::string("X") + static_cast<char>(s.size()) + std::string(3, '\0') + s;
  };
  std::string pickle = "\x80\x02}(" + text("state_dict") + "}" + text("metadata") + "}(" +
                       text("kwargs") + std::string(40, ']') + std::string(39, 'a') + "uu.";
  ZipWriter zip;
  zip.Add("ckpt/data.pkl", pickle);
  absl::StatusOr<std::string> bytes = std::move(zip).Finish();
  ASSERT_TRUE(bytes.ok());
  const std::string path = WriteTemp("deep.pth", *bytes);
  const absl::Status status = LoadCheckpointConfig(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
  EXPECT_NE(status.message().find("nests deeper"), std::string::npos) << status;
}

TEST(CheckpointTest, SafetensorsStrictness) {
  auto make = [](const std::string& header, const std::string& data) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + data;
  };
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(ParseSafetensors(make(ok_header, std::string(8, '\0'))).ok());
  EXPECT_EQ(ParseSafetensors(make(ok_header, std::string(4, '\0'))).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseSafetensors(make(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                  std::string(8, '\0')))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseSafetensors(make(R"({"a":{"dtype":"X9","shape":[2],"data_offsets":[0,8]}})",
                                  std::string(8, '\0')))
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseSafetensors(make(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                  R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                  std::string(12, '\0')))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseSafetensors(make("{not json", "")).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace codec::io
