// What one batched streaming step dispatches, counted on the operations a
// GPU runs (HostKernels::kDeviceSequence) for every network shape and both
// directions: the same operations for one stream as for many (the streams'
// state stays stacked in their slots between steps), the step's results
// come back in one download, and nothing in our code reads a value back to
// the host (each would wait for the GPU; libtorch's CPU kernels read some,
// which are not what a GPU runs).

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "backends/kernels/host_kernels.h"
#include "bench/op_count.h"
#include "bench/step_op_count.h"
#include "tests/testing/fixture_codec_test.h"

namespace codec {
namespace {

constexpr int kWarmupSteps = 4;

class StepOpsTest : public testing::FixtureCodecTest {
 protected:
  void SetUp() override {
    FixtureCodecTest::SetUp();  // Loads the backend with the test's kernels,
    nn::SetHostKernels(nn::HostKernels::kDeviceSequence);  // which this test overrides.
  }
  void TearDown() override { nn::SetHostKernels(nn::HostKernels::kExact); }

  // One step of `streams` streams after the warm-up, in chunks of a group.
  bench::OpCount::Counts CountStep(bool decode, NoiseMode noise, int streams) {
    DecodeOptions options;
    options.noise = noise;
    absl::StatusOr<bench::OpCount::Counts> counts = bench::CountBatchedStep(
        *backend_, decode, options, recording_, Group(), streams, kWarmupSteps);
    EXPECT_TRUE(counts.ok()) << counts.status();
    return counts.ok() ? *counts : bench::OpCount::Counts{};
  }
};

TEST_P(StepOpsTest, AStepCostsTheSameForOneStreamAsForManyAndDownloadsOnce) {
  struct Case {
    bool decode;
    NoiseMode noise;
  };
  std::vector<Case> cases = {{false, NoiseMode::kOff}, {true, NoiseMode::kOff}};
  // Unseeded noise: every row draws in one call.
  if (desc_.has_noise) cases.push_back({true, NoiseMode::kRandom});
  for (const Case& c : cases) {
    const std::string name = std::string(c.decode ? "decode" : "encode") +
                             (c.noise == NoiseMode::kRandom ? " with noise" : "");
    int64_t one_stream = 0;
    for (int streams : {1, 8}) {
      const bench::OpCount::Counts counts = CountStep(c.decode, c.noise, streams);
      std::cout << GetParam() << " " << name << ", " << streams << " streams: "
                << counts.outermost << " operations, " << counts.all << " with nested\n";
      EXPECT_EQ(counts.downloads, 1) << name << ", " << streams << " streams";
      EXPECT_EQ(counts.our_scalar_reads, 0) << name << ", " << streams << " streams";
      EXPECT_GT(counts.outermost, 0) << "the counter saw no operation";
      if (streams == 1) one_stream = counts.outermost;
      EXPECT_EQ(counts.outermost, one_stream) << name << ", " << streams << " streams";
    }
  }
}

// EnCodec 48 kHz streams segment by segment, alone (segment_streams.h).
INSTANTIATE_TEST_SUITE_P(Fixtures, StepOpsTest,
                         ::testing::Values("encodec24_tiny_bw6", "dac16_tiny", "dac44_tiny",
                                           "snac24_tiny", "snac44_tiny_attn", "mimi_tiny_ctx8"));

}  // namespace
}  // namespace codec
