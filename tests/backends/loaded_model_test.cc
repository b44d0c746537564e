#include "backends/runtime/loaded_model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace codec {
namespace {

struct Weights {
  std::vector<float> values = std::vector<float>(1024, 1.0f);
};

TEST(LoadedModelTest, ConcurrentFirstLoadsRunTheFactoryOnce) {
  LoadedModel<Weights> model;
  std::atomic<int> factory_runs{0};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      ok += model
                .Load([&]() -> absl::StatusOr<std::shared_ptr<const Weights>> {
                  ++factory_runs;
                  std::this_thread::sleep_for(std::chrono::milliseconds(20));
                  return std::make_shared<const Weights>();
                })
                .ok();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(factory_runs, 1);
  EXPECT_EQ(ok, 16);
  EXPECT_NE(model.Get(), nullptr);
}

TEST(LoadedModelTest, UnloadFreesOnceInFlightCallsReturn) {
  LoadedModel<Weights> model;
  ASSERT_TRUE(model.Load([] { return std::make_shared<const Weights>(); }).ok());
  std::weak_ptr<const Weights> watch = model.Get();
  std::shared_ptr<const Weights> in_flight = model.Get();  // A call still running.
  model.Unload();
  EXPECT_EQ(model.Get(), nullptr);
  EXPECT_FALSE(watch.expired()) << "freed under a running call";
  EXPECT_EQ(in_flight->values.size(), 1024u);
  in_flight.reset();
  EXPECT_TRUE(watch.expired()) << "weights outlived Unload";
  EXPECT_EQ(model.GetOrError("m").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LoadedModelTest, FailedLoadLeavesItUnloadedAndCanRetry) {
  LoadedModel<Weights> model;
  const absl::Status failed = model.Load([]() -> absl::StatusOr<std::shared_ptr<const Weights>> {
    return absl::DataLossError("truncated");
  });
  EXPECT_EQ(failed.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(model.Get(), nullptr);
  EXPECT_TRUE(model.Load([] { return std::make_shared<const Weights>(); }).ok());
  EXPECT_NE(model.Get(), nullptr);
}

}  // namespace
}  // namespace codec
