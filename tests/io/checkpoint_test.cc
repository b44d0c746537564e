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
#include "backends/io/torch_checkpoint.h"
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

// The zip's CRC rejects most flipped bytes above; here each checkpoint's
// pickle is corrupted and re-zipped with valid CRCs, so the unpickler and the
// tensor builder behind it see every corruption.
TEST(CheckpointTest, CorruptPicklesBehindValidZipsNeverCrash) {
  for (const char* path : {kEncodecWeights, kDacWeights, kSnacWeights}) {
    absl::StatusOr<ZipReader> zip = ZipReader::OpenFile(path);
    ASSERT_TRUE(zip.ok()) << zip.status();
    std::string pickle_name;
    for (const std::string& name : zip->names()) {
      if (name.size() > 8 && name.substr(name.size() - 8) == "data.pkl") pickle_name = name;
    }
    absl::StatusOr<std::string> pickle = zip->Read(pickle_name);
    ASSERT_TRUE(pickle.ok());
    auto rezip = [&](const std::string& new_pickle) {
      ZipWriter writer;
      for (const std::string& name : zip->names()) {
        absl::StatusOr<std::string> record = zip->Read(name);
        EXPECT_TRUE(record.ok()) << record.status();
        writer.Add(name, name == pickle_name ? new_pickle : record.value_or(""));
      }
      absl::StatusOr<std::string> bytes = std::move(writer).Finish();
      EXPECT_TRUE(bytes.ok()) << bytes.status();
      return bytes.value_or("");
    };
    int parsed = 0, refused = 0;
    const size_t stride = std::max<size_t>(1, pickle->size() / 100);
    for (size_t pos = 0; pos < pickle->size(); pos += stride) {
      for (uint8_t mask : {0x01, 0x5A, 0xFF}) {
        std::string corrupt = *pickle;
        corrupt[pos] = static_cast<char>(corrupt[pos] ^ mask);
        const absl::StatusOr<Checkpoint> checkpoint = ParseTorchCheckpoint(rezip(corrupt));
        if (checkpoint.ok()) {
          ++parsed;
          continue;
        }
        ++refused;
        EXPECT_NE(checkpoint.status().code(), absl::StatusCode::kInternal)
            << path << " byte " << pos << ": " << checkpoint.status();
      }
      const absl::StatusOr<Checkpoint> cut = ParseTorchCheckpoint(rezip(pickle->substr(0, pos)));
      EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss) << path << " cut at " << pos;
    }
    // Many corruptions are refused; a flip in a name or a number can parse.
    EXPECT_GT(refused, (refused + parsed) / 5) << path << ": " << parsed << " parsed";
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
  // A shape whose element count wraps to 0 in 64 bits must not pass as empty.
  EXPECT_EQ(ParseSafetensors(make(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
                                  R"("data_offsets":[0,0]}})",
                                  ""))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

// A pickle's bytes drive the unpickler; each of these would crash, loop or
// exhaust memory without its bound.
// The opcodes state dicts rarely use, each read as Python's pickle reads
// them, and one outside the subset named with its byte and position.
TEST(CheckpointTest, RareOpcodesAreReadAndOthersNamed) {
  const std::string pickle = std::string("\x80\x04") +              // PROTO 4
                             "(" +                                  // MARK
                             "K\x01" +                              // BININT1 1
                             std::string("M\x02\x01") +             // BININT2 258
                             "J\xff\xff\xff\xff" +                  // BININT -1
                             "\x88\x89N" +                          // True, False, None
                             "t" +                                  // TUPLE
                             "\x94" +                               // MEMOIZE: memo 0
                             std::string("r\x01\x00\x00\x00", 5) +  // LONG_BINPUT 1
                             std::string("j\x01\x00\x00\x00", 5) +  // LONG_BINGET 1
                             "\x86.";                               // TUPLE2, STOP
  absl::StatusOr<PyValuePtr> value = UnpickleCheckpoint(pickle);
  ASSERT_TRUE(value.ok()) << value.status();
  ASSERT_EQ((*value)->kind, PyValue::Kind::kTuple);
  ASSERT_EQ((*value)->items.size(), 2u);
  for (const PyValuePtr& inner : (*value)->items) {
    ASSERT_EQ(inner->kind, PyValue::Kind::kTuple);
    ASSERT_EQ(inner->items.size(), 6u);
    EXPECT_EQ(inner->items[0]->int_value, 1);
    EXPECT_EQ(inner->items[1]->int_value, 258);
    EXPECT_EQ(inner->items[2]->int_value, -1);
    EXPECT_TRUE(inner->items[3]->bool_value);
    EXPECT_FALSE(inner->items[4]->bool_value);
    EXPECT_EQ(inner->items[5]->kind, PyValue::Kind::kNone);
  }
  const absl::Status text_int = UnpickleCheckpoint("\x80\x02I1\n.").status();
  EXPECT_EQ(text_int.code(), absl::StatusCode::kUnimplemented) << text_int;
  EXPECT_NE(text_int.message().find("opcode 0x49 at byte 2"), std::string::npos) << text_int;
}

TEST(CheckpointTest, HostilePicklesAreBounded) {
  auto status_of = [](const std::string& pickle) { return UnpickleCheckpoint(pickle).status(); };
  // Lists nested 200,000 deep (freeing them recursively overflowed the stack).
  const int deep = 200000;
  absl::Status status =
      status_of("\x80\x02" + std::string(deep, ']') + std::string(deep - 1, 'a') + ".");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("nests deeper"), std::string::npos) << status;
  // Nesting up to the bound is fine.
  EXPECT_TRUE(status_of("\x80\x02" + std::string(kMostPickleDepth, ']') +
                        std::string(kMostPickleDepth - 1, 'a') + ".")
                  .ok());
  // More values than the bound, a few bytes each.
  status = status_of("\x80\x02" + std::string(kMostPickleValues + 1, 'N') + ".");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  // As many marks.
  status = status_of("\x80\x02" + std::string(kMostPickleValues + 1, '(') + ".");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  // A list appended to itself through the memo: a cycle.
  const std::string zero(1, '\0'), one(1, '\1');
  status = status_of("\x80\x02]q" + zero + "h" + zero + "a.");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  // Two lists made to hold each other: the second append changes a list
  // that is already nested.
  status =
      status_of("\x80\x02]q" + zero + "]q" + one + "h" + zero + "ah" + zero + "h" + one + "a.");
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_NE(status.message().find("after it was nested"), std::string::npos) << status;
}

// Metadata whose 30 levels each hold the level below twice, through the memo:
// a few hundred bytes that would be walked 2^30 times.
TEST(CheckpointTest, SharedMetadataIsWalkedWithinABound) {
  auto text = [](const std::string& s) {
    return std::string("X") + static_cast<char>(s.size()) + std::string(3, '\0') + s;
  };
  std::string kwargs("]q\x00", 3);
  for (char level = 1; level <= 30; ++level) {  // (level - 1, level - 1) by TUPLE2.
    kwargs += std::string("h") + static_cast<char>(level - 1) + "\x86" + "q" + level;
  }
  const std::string pickle = "\x80\x02}(" + text("state_dict") + "}" + text("metadata") + "}(" +
                             text("kwargs") + kwargs + "uu.";
  ASSERT_TRUE(UnpickleCheckpoint(pickle).ok()) << UnpickleCheckpoint(pickle).status();
  ZipWriter zip;
  zip.Add("ckpt/data.pkl", pickle);
  absl::StatusOr<std::string> bytes = std::move(zip).Finish();
  ASSERT_TRUE(bytes.ok());
  const absl::Status status = LoadCheckpointConfig(WriteTemp("shared.pth", *bytes)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
}

// The sizes a zip's directory claims are checked before anything is
// allocated or inflated.
TEST(CheckpointTest, ZipBombsAreRefusedBeforeInflating) {
  ZipWriter writer;
  writer.Add("bomb", std::string(4096, 'x'));
  absl::StatusOr<std::string> bytes = std::move(writer).Finish();
  ASSERT_TRUE(bytes.ok());
  const size_t dir = bytes->find("PK\x01\x02");
  ASSERT_NE(dir, std::string::npos);
  auto put = [&](size_t at, uint64_t value, int width) {
    for (int i = 0; i < width; ++i) (*bytes)[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  };
  put(dir + 10, 8, 2);           // Method: deflated.
  put(dir + 24, 0xFFFFFFF0, 4);  // Claims to inflate its 4 KiB to 4 GiB.
  absl::StatusOr<ZipReader> zip = ZipReader::Open(*bytes);
  ASSERT_TRUE(zip.ok()) << zip.status();
  absl::Status status = zip->Read("bomb").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  put(dir + 24, 8 << 20, 4);  // 8 MiB: under the size cap, over the ratio.
  zip = ZipReader::Open(*bytes);
  ASSERT_TRUE(zip.ok()) << zip.status();
  status = zip->Read("bomb").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
}

}  // namespace
}  // namespace codec::io
