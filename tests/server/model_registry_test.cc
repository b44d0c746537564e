#include "server/serving/model_registry.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "backends/runtime/compute_device.h"
#include "tests/testing/await.h"
#include "tests/testing/fixture.h"

namespace codec::server {
namespace {

constexpr char kWeights[] = "encodec24_tiny_bw6";

BackendSpec TinyEncodec(const std::string& id) {
  return {.id = id, .model = "encodec", .weights = kWeights};
}

// `id`'s info; an unknown id fails the test (and reads as a default info).
ModelInfo InfoOf(const ModelRegistry& registry, const std::string& id) {
  absl::StatusOr<ModelInfo> info = registry.Get(id);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.value_or(ModelInfo());
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
  ModelRegistry registry(testing::FixtureRepository(), factory.get());
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
  ModelRegistry registry(testing::FixtureRepository());
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
  ModelRegistry registry(testing::FixtureRepository());
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
  const std::string fixture = testing::FixtureRepository() + "/" + kWeights;
  std::filesystem::copy_file(fixture + "/weights.th", repository + "/folder/weights.th");
  ASSERT_EQ(mkfifo((repository + "/folder/config.json").c_str(), 0600), 0);
  ModelRegistry registry(repository);
  for (const char* weights : {"weights.th", "folder"}) {
    BackendSpec spec = TinyEncodec("fifo");
    spec.weights = weights;
    const absl::Status status = registry.Load(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << weights << ": " << status;
    EXPECT_NE(status.message().find("not a regular file"), std::string::npos) << status;
    EXPECT_EQ(InfoOf(registry, "fifo").state, ModelState::kFailed);
  }
  ASSERT_EQ(unlink((repository + "/folder/config.json").c_str()), 0);
  std::filesystem::copy_file(fixture + "/config.json", repository + "/folder/config.json");
  BackendSpec spec = TinyEncodec("fifo");
  spec.weights = "folder";
  EXPECT_TRUE(registry.Load(spec).ok());
}

// Symlinks are followed before the check: one that leads out of the
// repository (a folder, or a file inside a folder) is refused, and neither
// the status nor the stored error names where the server keeps its files.
TEST(ModelRegistryTest, SymlinksOutOfTheRepositoryAreRefused) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(std::getenv("TEST_TMPDIR")) / "symlink_case";
  const fs::path repository = root / "repository";
  const fs::path outside = root / "outside";
  fs::create_directories(repository / "folder");
  fs::create_directories(outside);
  const fs::path fixture = fs::path(testing::FixtureRepository()) / kWeights;
  for (const char* name : {"weights.th", "config.json"}) {
    fs::copy_file(fixture / name, outside / name);
    fs::copy_file(fixture / name, repository / "folder" / name);
  }
  fs::create_directory_symlink(outside, repository / "escape");
  fs::create_directories(repository / "mixed");
  fs::copy_file(fixture / "config.json", repository / "mixed" / "config.json");
  fs::create_symlink(outside / "weights.th", repository / "mixed" / "weights.th");
  fs::create_directory_symlink(repository / "folder", repository / "alias");

  ModelRegistry registry(repository.string());
  for (const char* weights : {"escape", "escape/weights.th", "mixed", "mixed/weights.th"}) {
    BackendSpec spec = TinyEncodec("linked");
    spec.weights = weights;
    const absl::Status status = registry.Load(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << weights << ": " << status;
    EXPECT_NE(status.message().find(weights), std::string::npos) << status;
    EXPECT_EQ(status.message().find(root.string()), std::string::npos) << status;
  }
  BackendSpec spec = TinyEncodec("linked");
  spec.weights = "nothing/here";
  EXPECT_EQ(registry.Load(spec).code(), absl::StatusCode::kNotFound);
  spec.weights = "alias";  // A link that stays inside is fine.
  EXPECT_TRUE(registry.Load(spec).ok());

  // A load error names the file as the caller did, without the repository.
  BackendSpec broken = TinyEncodec("broken");
  broken.model = "snac";
  broken.weights = "folder/weights.th";
  const absl::Status failed = registry.Load(broken);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("folder/weights.th"), std::string::npos) << failed;
  EXPECT_EQ(failed.message().find(root.string()), std::string::npos) << failed;
  EXPECT_EQ(InfoOf(registry, "broken").error, failed);
}

// Whatever a backend throws while loading, the id ends FAILED with a status
// and loads again later.
TEST(ModelRegistryTest, ExceptionsInLoadLeaveTheModelFailedAndRetryable) {
  std::atomic<int> calls{0};
  ModelRegistry registry(
      testing::FixtureRepository(),
      [&calls](const BackendSpec& spec) -> absl::StatusOr<std::shared_ptr<CodecBackend>> {
        switch (calls++) {
          case 0:
            throw std::runtime_error("boom");
          case 1:
            throw std::bad_alloc();
          default:
            return CreateBackend(spec);
        }
      });
  absl::Status status = registry.Load(TinyEncodec("m"));
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
  EXPECT_NE(status.message().find("boom"), std::string::npos) << status;
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kFailed);
  status = registry.Load(TinyEncodec("m"));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kFailed);
  EXPECT_TRUE(registry.Load(TinyEncodec("m")).ok());
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kReady);
}

// An Unload that cannot drain by its deadline gives up and leaves the model
// serving.
TEST(ModelRegistryTest, UnloadHonoursItsDeadline) {
  ModelRegistry registry(testing::FixtureRepository());
  ASSERT_TRUE(registry.Load(TinyEncodec("m")).ok());
  absl::StatusOr<ModelLease> lease = registry.Acquire("m");
  ASSERT_TRUE(lease.ok());
  const absl::Time start = absl::Now();
  const absl::Status status = registry.Unload("m", start + absl::Milliseconds(100));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kReady);
  EXPECT_TRUE(registry.Acquire("m").ok());
  EXPECT_TRUE(lease->provider().IsLoaded());
}

// A cap on the models held: a Load beyond it is refused, reloading a held id
// is not, and unloading one makes room.
TEST(ModelRegistryTest, LoadsBeyondTheModelCapAreRefused) {
  ModelRegistry registry(testing::FixtureRepository(), CreateBackend, /*max_models=*/2);
  ASSERT_TRUE(registry.Load(TinyEncodec("a")).ok());
  ASSERT_TRUE(registry.Load(TinyEncodec("b")).ok());
  const absl::Status refused = registry.Load(TinyEncodec("c"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_FALSE(registry.Get("c").ok()) << "a refused id is not registered";
  EXPECT_TRUE(registry.Load(TinyEncodec("a")).ok()) << "already held";
  ASSERT_TRUE(registry.Unload("b").ok());
  EXPECT_TRUE(registry.Load(TinyEncodec("c")).ok());
  EXPECT_EQ(registry.Load(TinyEncodec("b")).code(), absl::StatusCode::kResourceExhausted);
}

TEST(ModelRegistryTest, UnloadWaitsForLeasesAndRefusesNewOnes) {
  ModelRegistry registry(testing::FixtureRepository());
  ASSERT_TRUE(registry.Load(TinyEncodec("m")).ok());
  std::optional<ModelLease> lease;
  {
    absl::StatusOr<ModelLease> acquired = registry.Acquire("m");
    ASSERT_TRUE(acquired.ok());
    lease.emplace(std::move(*acquired));
  }
  const DynCodecProvider provider = lease->provider();  // Watches the backend.
  EXPECT_GT(InfoOf(registry, "m").memory_bytes, 0);
  EXPECT_EQ(InfoOf(registry, "m").memory_bytes, provider.MemoryBytes());

  // While the lease is held, an Unload with a deadline gives up at it, and
  // the model stays READY: it waited for the lease, whatever the timing.
  const absl::Status gave_up = registry.Unload("m", absl::Now() + absl::Milliseconds(20));
  EXPECT_EQ(gave_up.code(), absl::StatusCode::kDeadlineExceeded) << gave_up;
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kReady);
  EXPECT_TRUE(provider.IsLoaded());

  absl::Notification unloaded;
  testing::JoiningThreads unloader([&] { lease.reset(); });
  unloader.Start([&] {
    EXPECT_TRUE(registry.Unload("m").ok());
    unloaded.Notify();
  });
  // Unload is now waiting: new requests are refused, the running one works.
  ASSERT_TRUE(testing::Eventually([&] {
    return InfoOf(registry, "m").state == ModelState::kUnloading;
  })) << "Unload never began";
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(kWeights);
  ASSERT_TRUE(fixture.ok());
  EXPECT_TRUE(lease->provider().Encode(fixture->input).ok());
  EXPECT_TRUE(provider.IsLoaded());
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kUnloading) << "it did not wait for the lease";

  unloader.JoinAll();  // Drops the lease, then joins.
  EXPECT_TRUE(unloaded.HasBeenNotified());
  ASSERT_TRUE(registry.Get("m").ok());
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kUnloaded);
  EXPECT_EQ(InfoOf(registry, "m").memory_bytes, 0);
  EXPECT_EQ(registry.Acquire("m").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(provider.IsLoaded()) << "Unload must free the weights";
  EXPECT_EQ(provider.MemoryBytes(), 0);
  EXPECT_TRUE(registry.Unload("m").ok()) << "unloading twice is a no-op";

  // Load brings an unloaded model back.
  ASSERT_TRUE(registry.Load(TinyEncodec("m")).ok());
  EXPECT_EQ(InfoOf(registry, "m").state, ModelState::kReady);
  EXPECT_TRUE(registry.Acquire("m").ok());
}

// Placement on a pool of two CPU partitions: replicas, spreading, the
// least loaded device, and devices outside the pool.
class PlacementTest : public ::testing::Test {
 protected:
  ModelRegistry registry_{testing::FixtureRepository(), CreateBackend, 0,
                          ServingOptions{.devices = *DevicePool::Create("cpu:0,cpu:1", 2)}};
};

TEST_F(PlacementTest, ReplicasTakeStreamsInTurn) {
  ASSERT_TRUE(registry_.Load(TinyEncodec("m"), "all").ok());
  const ModelInfo info = InfoOf(registry_, "m");
  ASSERT_EQ(info.replicas.size(), 2u);
  EXPECT_EQ(info.replicas[0].device, "cpu:0");
  EXPECT_EQ(info.replicas[1].device, "cpu:1");
  EXPECT_EQ(info.memory_bytes, info.replicas[0].memory_bytes + info.replicas[1].memory_bytes);
  std::vector<ModelLease> leases;
  std::map<std::string, int> by_device;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<ModelLease> lease = registry_.Acquire("m");
    ASSERT_TRUE(lease.ok());
    ++by_device[lease->device()];
    leases.push_back(*std::move(lease));
  }
  EXPECT_EQ(by_device, (std::map<std::string, int>{{"cpu:0", 2}, {"cpu:1", 2}}));
  EXPECT_EQ(InfoOf(registry_, "m").replicas[1].streams, 2);
  // Each replica has its own weights and executor.
  EXPECT_NE(&leases[0].provider().backend(), &leases[1].provider().backend());
  EXPECT_NE(&leases[0].executor(), &leases[1].executor());
}

TEST_F(PlacementTest, UnplacedModelsGoWhereTheLeastMemoryIsHeld) {
  ASSERT_TRUE(registry_.Load(TinyEncodec("first"), "cpu:0").ok());
  ASSERT_TRUE(registry_.Load(TinyEncodec("second")).ok());
  EXPECT_EQ(InfoOf(registry_, "second").replicas.at(0).device, "cpu:1");
  const std::vector<DeviceLoad> devices = registry_.Devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].models, std::vector<std::string>{"first"});
  EXPECT_EQ(devices[1].models, std::vector<std::string>{"second"});
  EXPECT_GT(devices[1].memory_bytes, 0);
  ASSERT_TRUE(registry_.Unload("first").ok());
  EXPECT_TRUE(registry_.Devices()[0].models.empty());
  EXPECT_EQ(registry_.Devices()[0].memory_bytes, 0);
}

TEST_F(PlacementTest, DevicesOutsideThePoolAreRefused) {
  const absl::Status outside = registry_.Load(TinyEncodec("m"), "cpu:5");
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound) << outside;
  EXPECT_FALSE(registry_.Get("m").ok()) << "nothing registered";
  if (CudaDeviceCount() == 0) {
    const absl::Status gpu = registry_.Load(TinyEncodec("m"), "cuda:0");
    EXPECT_EQ(gpu.code(), absl::StatusCode::kFailedPrecondition) << gpu;
    EXPECT_NE(gpu.message().find("CUDA"), std::string::npos) << gpu;
  }
}

}  // namespace
}  // namespace codec::server
