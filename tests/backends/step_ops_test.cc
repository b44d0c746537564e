// What one batched streaming step dispatches, counted on the operations a
// GPU runs (HostKernels::kDeviceSequence) for every network shape and both
// directions: the step's results come back in one download whatever the
// number of streams, and nothing in our code reads a value back to the host
// (each would wait for the GPU; libtorch's CPU kernels read some, which are
// not what a GPU runs).

#include <gtest/gtest.h>

#include <iostream>

#include "backends/nn/host_kernels.h"
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
  bench::OpCount::Counts CountStep(bool decode, int streams) {
    absl::StatusOr<bench::OpCount::Counts> counts = bench::CountBatchedStep(
        *backend_, decode, recording_, Group(), streams, kWarmupSteps);
    EXPECT_TRUE(counts.ok()) << counts.status();
    return counts.ok() ? *counts : bench::OpCount::Counts{};
  }
};

TEST_P(StepOpsTest, AStepDownloadsOnceAndNeverReadsAValueBack) {
  for (bool decode : {false, true}) {
    for (int streams : {1, 8}) {
      const bench::OpCount::Counts counts = CountStep(decode, streams);
      std::cout << GetParam() << (decode ? " decode" : " encode") << ", " << streams
                << " streams: " << counts.outermost << " operations, " << counts.all
                << " with nested\n";
      EXPECT_EQ(counts.downloads, 1) << streams << " streams";
      EXPECT_EQ(counts.our_scalar_reads, 0) << streams << " streams";
      EXPECT_GT(counts.outermost, 0) << "the counter saw no operation";
    }
  }
}

// EnCodec 48 kHz streams segment by segment, alone (segment_streams.h).
INSTANTIATE_TEST_SUITE_P(Fixtures, StepOpsTest,
                         ::testing::Values("encodec24_tiny_bw6", "dac16_tiny", "dac44_tiny",
                                           "snac24_tiny", "snac44_tiny_attn"));

}  // namespace
}  // namespace codec
