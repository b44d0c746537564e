#ifndef SERVER_SERVING_DEVICE_POOL_H_
#define SERVER_SERVING_DEVICE_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/serving/compute_slots.h"

namespace codec::server {

// The devices a server runs models on (--devices), each with its own bound
// on the forward passes that run on it at once.
class DevicePool {
 public:
  struct Device {
    std::string name;          // As clients name it: "cpu", "cpu:1", "cuda:0".
    std::string torch_device;  // What its models run on: "cpu" or "cuda:N".
    std::unique_ptr<ComputeSlots> slots;
    bool is_cpu() const { return torch_device == "cpu"; }
  };

  // `spec` is a comma-separated list of "cpu", CPU partitions "cpu:N" (each
  // its own device, sharing the machine's `cpu_passes` parallel passes, at
  // least one each) and GPUs "cuda:N"; "all" is every GPU libtorch sees, or
  // the CPU when it sees none. FAILED_PRECONDITION for a GPU this build
  // cannot use, INVALID_ARGUMENT for anything else it cannot parse.
  static absl::StatusOr<std::unique_ptr<DevicePool>> Create(const std::string& spec,
                                                            int cpu_passes);

  // One CPU device running at most `passes` passes at once (0: no bound).
  static std::shared_ptr<const DevicePool> Cpu(int passes);

  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }

  // The devices a Load names: a device of the pool, several separated by
  // commas, or "all" (every device of the pool). NOT_FOUND naming the pool
  // for a device outside it (FAILED_PRECONDITION when it is a GPU this
  // build cannot use at all).
  absl::StatusOr<std::vector<Device*>> Resolve(const std::string& request) const;

  // "cpu:0, cpu:1": for messages.
  std::string Names() const;

 private:
  std::vector<std::unique_ptr<Device>> devices_;
};

}  // namespace codec::server

#endif  // SERVER_SERVING_DEVICE_POOL_H_
