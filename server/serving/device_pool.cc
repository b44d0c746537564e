#include "server/serving/device_pool.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/runtime/compute_device.h"

namespace codec::server {
namespace {

std::vector<std::string> SplitNames(const std::string& list) {
  std::vector<std::string> names;
  for (absl::string_view name : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    names.emplace_back(absl::StripAsciiWhitespace(name));
  }
  return names;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DevicePool>> DevicePool::Create(const std::string& spec,
                                                               int cpu_passes) {
  std::vector<std::string> names = SplitNames(spec);
  if (names == std::vector<std::string>{"all"}) {
    names.clear();
    for (int gpu = 0; gpu < CudaDeviceCount(); ++gpu) names.push_back(absl::StrCat("cuda:", gpu));
    if (names.empty()) names.push_back("cpu");
  }
  if (names.empty()) return absl::InvalidArgumentError("--devices names no device");
  auto pool = std::make_unique<DevicePool>();
  std::set<std::string> seen;
  int partitions = 0;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("device '", name, "' is listed twice"));
    }
    auto device = std::make_unique<Device>();
    device->name = name;
    if (name == "cpu" || absl::StartsWith(name, "cpu:")) {
      int index = 0;
      if (name != "cpu" && (!absl::SimpleAtoi(name.substr(4), &index) || index < 0)) {
        return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a CPU partition"));
      }
      device->torch_device = "cpu";
      ++partitions;
    } else {
      if (absl::Status usable = CheckDevice(name); !usable.ok()) return usable;
      device->torch_device = name;
    }
    pool->devices_.push_back(std::move(device));
  }
  if (partitions > 1 && seen.count("cpu") > 0) {
    return absl::InvalidArgumentError("list the CPU either whole (cpu) or as partitions (cpu:N)");
  }
  for (const auto& device : pool->devices_) {
    // A GPU's passes queue on its own streams: its models' executors each
    // run one batch at a time, unbounded across models.
    int passes = 0;
    if (device->is_cpu() && cpu_passes > 0) passes = std::max(1, cpu_passes / partitions);
    device->slots = std::make_unique<ComputeSlots>(passes);
  }
  return pool;
}

std::shared_ptr<const DevicePool> DevicePool::Cpu(int passes) { return *Create("cpu", passes); }

absl::StatusOr<std::vector<DevicePool::Device*>> DevicePool::Resolve(
    const std::string& request) const {
  std::vector<Device*> chosen;
  if (request == "all") {
    for (const auto& device : devices_) chosen.push_back(device.get());
    return chosen;
  }
  std::set<std::string> seen;
  for (const std::string& name : SplitNames(request)) {
    auto it = std::find_if(devices_.begin(), devices_.end(),
                           [&](const auto& device) { return device->name == name; });
    if (it == devices_.end()) {
      if (absl::StartsWith(name, "cuda")) {
        if (absl::Status usable = CheckDevice(name); !usable.ok()) return usable;
      }
      return absl::NotFoundError(
          absl::StrCat("device '", name, "' is not one of this server's devices (", Names(), ")"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("device '", name, "' is named twice"));
    }
    chosen.push_back(it->get());
  }
  if (chosen.empty()) return absl::InvalidArgumentError("no device named");
  return chosen;
}

std::string DevicePool::Names() const {
  std::vector<std::string> names;
  for (const auto& device : devices_) names.push_back(device->name);
  return absl::StrJoin(names, ", ");
}

}  // namespace codec::server
