#include "server/serving/device_pool.h"

#include <gtest/gtest.h>

#include "backends/runtime/compute_device.h"

namespace codec::server {
namespace {

std::vector<std::string> NamesOf(const std::vector<DevicePool::Device*>& devices) {
  std::vector<std::string> names;
  for (const DevicePool::Device* device : devices) names.push_back(device->name);
  return names;
}

TEST(DevicePoolTest, CpuPartitionsShareTheMachinesPasses) {
  absl::StatusOr<std::unique_ptr<DevicePool>> pool = DevicePool::Create("cpu:0, cpu:1", 4);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ASSERT_EQ((*pool)->devices().size(), 2u);
  for (const auto& device : (*pool)->devices()) {
    EXPECT_EQ(device->torch_device, "cpu");
    EXPECT_TRUE(device->is_cpu());
  }
  EXPECT_EQ((*pool)->Names(), "cpu:0, cpu:1");
  // More partitions than passes still give each one.
  absl::StatusOr<std::unique_ptr<DevicePool>> many = DevicePool::Create("cpu:0,cpu:1,cpu:2", 2);
  ASSERT_TRUE(many.ok()) << many.status();
}

TEST(DevicePoolTest, BadListsAreRefusedWithTheReason) {
  for (const char* spec : {"", "cpu,cpu:1", "cpu:0,cpu:0", "cpu:x", "tpu:0"}) {
    absl::StatusOr<std::unique_ptr<DevicePool>> pool = DevicePool::Create(spec, 2);
    EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument) << spec;
  }
}

TEST(DevicePoolTest, GpusNeedACudaLibtorch) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "this libtorch sees a GPU";
  absl::StatusOr<std::unique_ptr<DevicePool>> pool = DevicePool::Create("cuda:0", 2);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(pool.status().message().find("CUDA"), std::string::npos) << pool.status();
  // "all" is the CPU when there is no GPU.
  absl::StatusOr<std::unique_ptr<DevicePool>> all = DevicePool::Create("all", 2);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ((*all)->devices().size(), 1u);
  EXPECT_EQ((*all)->devices()[0]->name, "cpu");
}

TEST(DevicePoolTest, ResolveNamesDevicesOfThePool) {
  absl::StatusOr<std::unique_ptr<DevicePool>> pool = DevicePool::Create("cpu:0,cpu:1", 2);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(NamesOf(*(*pool)->Resolve("cpu:1")), std::vector<std::string>{"cpu:1"});
  EXPECT_EQ(NamesOf(*(*pool)->Resolve("all")), (std::vector<std::string>{"cpu:0", "cpu:1"}));
  EXPECT_EQ(NamesOf(*(*pool)->Resolve("cpu:1,cpu:0")),
            (std::vector<std::string>{"cpu:1", "cpu:0"}));
  const absl::Status outside = (*pool)->Resolve("cpu:2").status();
  EXPECT_EQ(outside.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(outside.message().find("cpu:0, cpu:1"), std::string::npos) << outside;
  EXPECT_EQ((*pool)->Resolve("cpu:0,cpu:0").status().code(), absl::StatusCode::kInvalidArgument);
  if (CudaDeviceCount() == 0) {
    EXPECT_EQ((*pool)->Resolve("cuda:0").status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace codec::server
