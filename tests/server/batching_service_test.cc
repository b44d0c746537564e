// The GPU pool's logic on CPU partitions, over the wire: a real server on
// loopback with devices cpu:0 and cpu:1, real gRPC clients. Replicas share
// the streams and batch their steps, and every stream still decodes what the
// model decodes offline; Unload waits for batched streams and loses
// nothing; placement is reported per device; a GPU on a CPU-only build is a
// clear FAILED_PRECONDITION.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/time/clock.h"
#include "backends/runtime/compute_device.h"
#include "client/codec_client.h"
#include "server/rpc/codec_service.h"
#include "server/rpc/model_service.h"
#include "tests/testing/await.h"
#include "tests/testing/fixture.h"
#include "tests/testing/loopback_server.h"

namespace codec::server {
namespace {

constexpr char kFixture[] = "snac24_tiny";

class BatchingServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(kFixture);
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    codes_ = fixture->expected_codes;
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend = testing::LoadFixtureBackend(*fixture);
    ASSERT_TRUE(backend.ok()) << backend.status();
    DecodeOptions options;
    options.noise = NoiseMode::kOff;
    absl::StatusOr<Audio> offline = (*backend)->Decode(codes_, options);
    ASSERT_TRUE(offline.ok()) << offline.status();
    offline_ = *offline;
    group_ = (*backend)->description().level_strides.front();
    server_ = testing::StartLoopbackServer({&codec_service_, &model_service_});
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<client::CodecClient>(server_->channel());
  }

  // The streams on `model`'s replicas now.
  int StreamsOn(const std::string& model) {
    absl::StatusOr<v1::ModelInfo> info = client_->Get(model);
    int streams = 0;
    if (info.ok()) {
      for (const v1::ModelReplica& replica : info->replicas()) streams += replica.streams();
    }
    return streams;
  }

  // Decodes the fixture's codes on `model` in chunks of one group of
  // frames; the first chunk waits until `together` streams are open, and
  // each chunk waits `pace` after the last.
  absl::StatusOr<Audio> StreamDecode(const std::string& model, int together,
                                     absl::Duration pace = absl::ZeroDuration()) {
    client::CodecClient client(server_->channel());
    DecodeOptions options;
    options.noise = NoiseMode::kOff;
    const int64_t frames = codes_.levels.back().frames;
    int64_t first = 0;
    std::vector<Audio> parts;
    const absl::Status status = client.DecodeStream(
        model, options, codes_.num_samples,
        [&]() -> std::optional<Codes> {
          if (first == 0) {
            EXPECT_TRUE(testing::Eventually([&] { return StreamsOn(model) >= together; }))
                << StreamsOn(model) << " of " << together << " streams opened";
          }
          if (first >= frames) return std::nullopt;
          absl::SleepFor(pace);
          const int64_t last = std::min(frames, first + group_);
          Codes piece = SliceCodes(codes_, first, last);
          first = last;
          return piece;
        },
        [&](const Audio& audio, int64_t) { parts.push_back(audio); });
    if (!status.ok()) return status;
    return ConcatAudio(parts);
  }

  // Runs `n` concurrent decodes on `model` and checks each against offline.
  void DecodeConcurrently(const std::string& model, int n, absl::Duration pace) {
    std::vector<std::thread> threads;
    std::mutex mutex;
    std::vector<absl::StatusOr<Audio>> results;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&] {
        absl::StatusOr<Audio> audio = StreamDecode(model, n, pace);
        std::lock_guard<std::mutex> lock(mutex);
        results.push_back(std::move(audio));
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::StatusOr<Audio>& audio : results) {
      ASSERT_TRUE(audio.ok()) << audio.status();
      ASSERT_EQ(audio->num_frames(), offline_.num_frames());
      EXPECT_LE(testing::MaxAbsDiff(*audio, offline_), 1e-4);
    }
  }

  ModelRegistry registry_{
      testing::FixtureRepository(), CreateBackend, 0,
      ServingOptions{.devices = *DevicePool::Create("cpu:0,cpu:1", 2),
                     .executor = {.max_batch = 8, .batch_window = absl::Milliseconds(20)}}};
  CodecServiceImpl codec_service_{registry_, StreamLimits{}};
  ModelServiceImpl model_service_{registry_, AccessPolicy(), Administration::kServed};
  std::unique_ptr<testing::LoopbackServer> server_;
  std::unique_ptr<client::CodecClient> client_;
  Codes codes_;
  Audio offline_;
  int64_t group_ = 1;
};

TEST_F(BatchingServiceTest, ReplicasShareTheStreamsAndBatchTheirSteps) {
  absl::StatusOr<v1::ModelInfo> loaded = client_->Load("m", "snac", kFixture, "all");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->device(), "cpu:0,cpu:1");
  DecodeConcurrently("m", 6, absl::ZeroDuration());
  absl::StatusOr<v1::ModelInfo> info = client_->Get("m");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->replicas_size(), 2);
  for (const v1::ModelReplica& replica : info->replicas()) {
    EXPECT_GT(replica.batches(), 0u) << replica.device() << " took no stream";
    EXPECT_GT(replica.batched_steps(), replica.batches())
        << replica.device() << " never batched two streams' steps";
    EXPECT_EQ(replica.streams(), 0u);
    EXPECT_EQ(replica.queued_steps(), 0u);
  }
}

TEST_F(BatchingServiceTest, UnloadWaitsForBatchedStreamsAndLosesNothing) {
  ASSERT_TRUE(client_->Load("m", "snac", kFixture, "cpu:1").ok());
  std::atomic<bool> unloaded{false};
  testing::JoiningThreads unloader;
  unloader.Start([&] {
    EXPECT_TRUE(testing::Eventually([&] { return StreamsOn("m") >= 4; }));
    EXPECT_TRUE(client_->Unload("m").ok());
    unloaded = true;
  });
  DecodeConcurrently("m", 4, absl::Milliseconds(5));
  unloader.JoinAll();
  EXPECT_TRUE(unloaded);
  absl::StatusOr<v1::ModelInfo> info = client_->Get("m");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state(), v1::MODEL_STATE_UNLOADED);
  EXPECT_EQ(StreamDecode("m", 0).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BatchingServiceTest, DevicesReportWhatRunsOnThem) {
  ASSERT_TRUE(client_->Load("a", "snac", kFixture, "cpu:0").ok());
  ASSERT_TRUE(client_->Load("b", "snac", kFixture).ok());  // The emptier device.
  absl::StatusOr<std::vector<v1::DeviceInfo>> devices = client_->Devices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  ASSERT_EQ(devices->size(), 2u);
  EXPECT_EQ((*devices)[0].name(), "cpu:0");
  EXPECT_EQ((*devices)[1].name(), "cpu:1");
  for (const v1::DeviceInfo& device : *devices) {
    EXPECT_EQ(device.kind(), "cpu");
    EXPECT_GT(device.memory_total_bytes(), 0u);
    EXPECT_GT(device.memory_free_bytes(), 0u);
    EXPECT_GT(device.model_memory_bytes(), 0u);
    ASSERT_EQ(device.models_size(), 1);
  }
  EXPECT_EQ((*devices)[0].models(0), "a");
  EXPECT_EQ((*devices)[1].models(0), "b");
}

TEST_F(BatchingServiceTest, AGpuOnACpuOnlyBuildIsAFailedPrecondition) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "this libtorch sees a GPU";
  absl::StatusOr<v1::ModelInfo> loaded = client_->Load("g", "snac", kFixture, "cuda:0");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.status().message().find("CUDA"), std::string::npos) << loaded.status();
  EXPECT_EQ(client_->Get("g").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->Load("h", "snac", kFixture, "cpu:9").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace codec::server
