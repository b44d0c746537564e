#include "server/model_registry.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "tests/testing/fixture.h"

namespace codec::server {
namespace {

constexpr char kRepository[] = "tests/fixtures";
constexpr char kWeights[] = "encodec24_tiny_bw6";

BackendSpec TinyEncodec(const std::string& id) {
  return {.id = id, .model = "encodec", .weights = kWeights};
}

// Counts the backends built, and can hold each build for a while.
struct CountingFactory {
  std::atomic<int> builds{0};
  std::chrono::milliseconds delay{0};
  ModelRegistry::BackendFactory get() {
    return [this](const BackendSpec& spec) {
      ++builds;
      std::this_thread::sleep_for(delay);
      return CreateBackend(spec);
    };
  }
};

TEST(ModelRegistryTest, ConcurrentLoadsOfOneIdLoadOnce) {
  CountingFactory factory;
  factory.delay = std::chrono::milliseconds(50);
  ModelRegistry registry(kRepository, factory.get());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] { ok += registry.Load(TinyEncodec("m")).ok(); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, 16);
  EXPECT_EQ(factory.builds, 1);
  absl::StatusOr<ModelInfo> info = registry.Get("m");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ModelState::kReady);
  EXPECT_EQ(info->description.sample_rate, 24000);
}

TEST(ModelRegistryTest, UnknownAndFailedModelsAreClearErrors) {
  ModelRegistry registry(kRepository);
  EXPECT_EQ(registry.Acquire("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry.Unload("nope").code(), absl::StatusCode::kNotFound);

  BackendSpec broken = TinyEncodec("broken");
  broken.model = "snac";  // EnCodec weights do not fit a SNAC network.
  broken.weights = "encodec24_tiny_bw6/weights.th";
  const absl::Status failed = registry.Load(broken);
  EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument) << failed;
  absl::StatusOr<ModelInfo> info = registry.Get("broken");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->state, ModelState::kFailed);
  EXPECT_EQ(info->error, failed);
  const absl::Status acquire = registry.Acquire("broken").status();
  EXPECT_EQ(acquire.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(acquire.message().find("FAILED"), std::string::npos) << acquire;
  EXPECT_TRUE(registry.Unload("broken").ok());
  ASSERT_EQ(registry.List().size(), 1);
  EXPECT_EQ(registry.List()[0].state, ModelState::kUnloaded);
  EXPECT_TRUE(registry.List()[0].error.ok()) << "an unloaded model has no load error";
}

TEST(ModelRegistryTest, WeightsMustStayInsideTheRepository) {
  ModelRegistry registry(kRepository);
  for (const char* weights : {"/etc/passwd", "../fixtures/encodec24_tiny_bw6", "a/../../x"}) {
    BackendSpec spec = TinyEncodec("escape");
    spec.weights = weights;
    EXPECT_TRUE(testing::IsInvalidArgument(registry.Load(spec), "inside the model repository"))
        << weights;
  }
  EXPECT_TRUE(testing::IsInvalidArgument(ModelRegistry("").Load(TinyEncodec("x")),
                                         "inside the model repository"));
}

// Weights that are a FIFO (a file, or a folder's config) fail the Load at
// once instead of blocking it until some writer appears; the id can load
// good weights afterwards.
TEST(ModelRegistryTest, WeightsThatAreNotRegularFilesFailAtOnce) {
  const std::string repository = std::string(std::getenv("TEST_TMPDIR")) + "/fifo_repository";
  ASSERT_EQ(mkdir(repository.c_str(), 0700), 0);
  ASSERT_EQ(mkfifo((repository + "/weights.th").c_str(), 0600), 0);
  ASSERT_EQ(mkdir((repository + "/folder").c_str(), 0700), 0);
  const std::string fixture = std::string(kRepository) + "/" + kWeights;
  std::filesystem::copy_file(fixture + "/weights.th", repository + "/folder/weights.th");
  ASSERT_EQ(mkfifo((repository + "/folder/config.json").c_str(), 0600), 0);
  ModelRegistry registry(repository);
  for (const char* weights : {"weights.th", "folder"}) {
    BackendSpec spec = TinyEncodec("fifo");
    spec.weights = weights;
    const absl::Status status = registry.Load(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << weights << ": " << status;
    EXPECT_NE(status.message().find("not a regular file"), std::string::npos) << status;
    EXPECT_EQ(registry.Get("fifo")->state, ModelState::kFailed);
  }
  ASSERT_EQ(unlink((repository + "/folder/config.json").c_str()), 0);
  std::filesystem::copy_file(fixture + "/config.json", repository + "/folder/config.json");
  BackendSpec spec = TinyEncodec("fifo");
  spec.weights = "folder";
  EXPECT_TRUE(registry.Load(spec).ok());
}

TEST(ModelRegistryTest, UnloadWaitsForLeasesAndRefusesNewOnes) {
  ModelRegistry registry(kRepository);
  ASSERT_TRUE(registry.Load(TinyEncodec("m")).ok());
  std::optional<ModelLease> lease;
  {
    absl::StatusOr<ModelLease> acquired = registry.Acquire("m");
    ASSERT_TRUE(acquired.ok());
    lease.emplace(std::move(*acquired));
  }
  const DynCodecProvider provider = lease->provider();  // Watches the backend.
  EXPECT_GT(registry.Get("m")->memory_bytes, 0);
  EXPECT_EQ(registry.Get("m")->memory_bytes, provider.MemoryBytes());

  std::atomic<bool> unloaded{false};
  std::thread unloader([&] {
    EXPECT_TRUE(registry.Unload("m").ok());
    unloaded = true;
  });
  // Unload is now waiting: new requests are refused, the running one works.
  while (registry.Get("m").ok() && registry.Get("m")->state != ModelState::kUnloading) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kFailedPrecondition);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(unloaded);
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(kWeights);
  ASSERT_TRUE(fixture.ok());
  EXPECT_TRUE(lease->provider().Encode(fixture->input).ok());
  EXPECT_TRUE(provider.IsLoaded());

  lease.reset();
  unloader.join();
  EXPECT_TRUE(unloaded);
  ASSERT_TRUE(registry.Get("m").ok());
  EXPECT_EQ(registry.Get("m")->state, ModelState::kUnloaded);
  EXPECT_EQ(registry.Get("m")->memory_bytes, 0);
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(provider.IsLoaded()) << "Unload must free the weights";
  EXPECT_EQ(provider.MemoryBytes(), 0);
  EXPECT_TRUE(registry.Unload("m").ok()) << "unloading twice is a no-op";

  // Load brings an unloaded model back.
  ASSERT_TRUE(registry.Load(TinyEncodec("m")).ok());
  EXPECT_EQ(registry.Get("m")->state, ModelState::kReady);
  EXPECT_TRUE(registry.Acquire("m").ok());
}

}  // namespace
}  // namespace codec::server
