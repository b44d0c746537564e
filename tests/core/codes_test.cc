#include "backends/core/codes.h"

#include <gtest/gtest.h>

namespace codec {
namespace {

Codes TwoByThree() {
  Codes codes;
  codes.levels.push_back({2, 3, {1, 2, 3, 4, 5, 6}});
  return codes;
}

TEST(CodesTest, FlattenIsCodebookMajorAndRoundTrips) {
  const Codes codes = TwoByThree();
  const std::vector<uint32_t> flat = codes.Flatten();
  EXPECT_EQ(flat, (std::vector<uint32_t>{1, 2, 3, 4, 5, 6}));
  absl::StatusOr<Codes> back = CodesFromFlat(flat, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->levels.size(), 1u);
  EXPECT_EQ(back->levels[0].num_codebooks, 2);
  EXPECT_EQ(back->levels[0].frames, 3);
  EXPECT_EQ(back->levels[0].at(1, 0), 4u);
  EXPECT_EQ(back->levels[0].values, codes.levels[0].values);
}

TEST(CodesTest, FlattenConcatenatesLevels) {
  Codes codes;
  codes.levels.push_back({1, 2, {7, 8}});
  codes.levels.push_back({1, 4, {1, 2, 3, 4}});
  EXPECT_EQ(codes.Flatten(), (std::vector<uint32_t>{7, 8, 1, 2, 3, 4}));
  EXPECT_EQ(codes.total_codebooks(), 2);
}

TEST(CodesTest, FromFlatRejectsUnevenSplit) {
  const std::vector<uint32_t> tokens = {1, 2, 3, 4, 5};
  absl::StatusOr<Codes> codes = CodesFromFlat(tokens, 2);
  EXPECT_EQ(codes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(codes.status().message().find("5 tokens"), std::string::npos);
  EXPECT_EQ(CodesFromFlat(tokens, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CodesFromFlat({}, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodesTest, FromFlatLevelsSplitsByStrides) {
  Codes codes;
  codes.levels.push_back({1, 2, {1, 2}});
  codes.levels.push_back({1, 4, {3, 4, 5, 6}});
  codes.levels.push_back({1, 8, {7, 8, 9, 10, 11, 12, 13, 14}});
  const std::vector<uint32_t> flat = codes.Flatten();
  absl::StatusOr<Codes> back = CodesFromFlatLevels(flat, {1, 1, 1}, {4, 2, 1});
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->levels.size(), 3u);
  for (size_t l = 0; l < 3; ++l) {
    EXPECT_EQ(back->levels[l].frames, codes.levels[l].frames);
    EXPECT_EQ(back->levels[l].values, codes.levels[l].values);
  }
  const std::vector<uint32_t> ragged(flat.begin(), flat.end() - 1);
  const absl::Status status = CodesFromFlatLevels(ragged, {1, 1, 1}, {4, 2, 1}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("multiple of 7"), std::string::npos) << status;
}

// A single-level model of `codebooks` x `size` and a SNAC-like 3-level one.
CodecDescription OneLevel(int codebooks, int64_t size) {
  CodecDescription d;
  d.codebook_size = size;
  d.codebooks_per_level = {codebooks};
  d.level_strides = {1};
  return d;
}

TEST(CodesTest, ValidateNamesOutOfRangeCode) {
  Codes codes = TwoByThree();
  EXPECT_TRUE(codes.Validate(OneLevel(2, 7)).ok());
  const absl::Status status = codes.Validate(OneLevel(2, 6));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("code 6"), std::string::npos) << status;
  EXPECT_NE(status.message().find("codebook 1, frame 2"), std::string::npos) << status;
}

TEST(CodesTest, ValidateRejectsInconsistentShapes) {
  Codes codes = TwoByThree();
  codes.levels[0].values.pop_back();
  EXPECT_EQ(codes.Validate(OneLevel(2, 100)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Codes{}.Validate(OneLevel(2, 100)).code(), absl::StatusCode::kInvalidArgument);
  Codes empty_level;
  empty_level.levels.push_back({1, 0, {}});
  EXPECT_EQ(empty_level.Validate(OneLevel(2, 100)).code(), absl::StatusCode::kInvalidArgument);
  // More codebooks than the model has, and frame counts that would overflow.
  EXPECT_EQ(TwoByThree().Validate(OneLevel(1, 100)).code(), absl::StatusCode::kInvalidArgument);
  Codes huge;
  huge.levels.push_back({2, int64_t{1} << 62, {1, 2}});
  EXPECT_EQ(huge.Validate(OneLevel(2, 100)).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CodesTest, ValidateChecksLevelsSpanTheSameFramesAndScales) {
  CodecDescription snac;
  snac.codebook_size = 10;
  snac.codebooks_per_level = {1, 1, 1};
  snac.level_strides = {4, 2, 1};
  Codes codes;
  codes.levels = {{1, 1, {1}}, {1, 2, {1, 2}}, {1, 4, {1, 2, 3, 4}}};
  EXPECT_TRUE(codes.Validate(snac).ok());
  codes.levels[2] = {1, 3, {1, 2, 3}};
  EXPECT_EQ(codes.Validate(snac).code(), absl::StatusCode::kInvalidArgument);
  codes.levels.pop_back();
  EXPECT_EQ(codes.Validate(snac).code(), absl::StatusCode::kInvalidArgument);

  Codes scaled = TwoByThree();
  scaled.scales = {0.5f};
  EXPECT_EQ(scaled.Validate(OneLevel(2, 10)).code(), absl::StatusCode::kInvalidArgument);
  CodecDescription with_scales = OneLevel(2, 10);
  with_scales.has_scales = true;
  EXPECT_TRUE(scaled.Validate(with_scales).ok());
  scaled.scales = {-1.0f};
  EXPECT_EQ(scaled.Validate(with_scales).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace codec
