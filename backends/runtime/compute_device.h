#ifndef BACKENDS_RUNTIME_COMPUTE_DEVICE_H_
#define BACKENDS_RUNTIME_COMPUTE_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace codec {

// The devices this process's libtorch can run models on: "cpu", and
// "cuda:N" for each GPU a CUDA build of libtorch sees.

// The GPUs libtorch sees: 0 when it was built without CUDA.
int CudaDeviceCount();

// OK when models can run on `device`; FAILED_PRECONDITION saying why not
// (a libtorch without CUDA, no such GPU), INVALID_ARGUMENT for a name that
// is no device.
absl::Status CheckDevice(const std::string& device);

struct DeviceMemory {
  int64_t total_bytes = 0;
  int64_t free_bytes = 0;
};

// The memory of `device`: the machine's RAM for "cpu" (free: what the
// kernel reports available), the GPU's own for "cuda:N".
absl::StatusOr<DeviceMemory> MemoryOf(const std::string& device);

// Whether GPU matrix products and convolutions may round through TF32:
// faster, but far from the reference (libtorch lets cuDNN by default).
// Process-wide; off unless allowed here, set on libtorch for every model
// CreateBackend makes for a GPU.
void AllowTf32(bool allow);
// Sets libtorch's TF32 switches as AllowTf32 last said (off by default).
void ApplyTf32Choice();

// Makes the calling thread's work on `device` (a name CheckDevice accepts)
// run on a CUDA stream of its own from libtorch's pool, until the returned
// guard is destroyed on the same thread: on the legacy default stream every
// model on the GPU would wait for every other. Null for the CPU.
std::shared_ptr<void> UseOwnStream(const std::string& device);

}  // namespace codec

#endif  // BACKENDS_RUNTIME_COMPUTE_DEVICE_H_
