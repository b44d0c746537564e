#include "backends/runtime/compute_device.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>
#include <torch/cuda.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

#if CODEC_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace codec {
namespace {

absl::StatusOr<c10::Device> ParseDevice(const std::string& device) {
  try {
    return c10::Device(device);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", device, "' is not a device; say \"cpu\" or \"cuda:N\""));
  }
}

// A /proc/meminfo field, in bytes.
int64_t MeminfoBytes(const std::string& field) {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream in(line);
    std::string name;
    int64_t kib = 0;
    if (in >> name >> kib && name == field + ":") return kib * 1024;
  }
  return 0;
}

std::atomic<bool> tf32_allowed{false};

}  // namespace

int CudaDeviceCount() { return static_cast<int>(torch::cuda::device_count()); }

absl::Status CheckDevice(const std::string& device) {
  absl::StatusOr<c10::Device> parsed = ParseDevice(device);
  if (!parsed.ok()) return parsed.status();
  if (parsed->is_cpu()) return absl::OkStatus();
  if (!parsed->is_cuda()) {
    return absl::InvalidArgumentError(
        absl::StrCat("models run on \"cpu\" or \"cuda:N\", not '", device, "'"));
  }
  const int gpus = CudaDeviceCount();
  if (gpus == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device '", device,
        "' needs CUDA, and this server's libtorch has none (a CPU-only build, or no GPU "
        "visible); build with CMake against a CUDA libtorch (see CMakeLists.txt)"));
  }
  if (parsed->has_index() && parsed->index() >= gpus) {
    return absl::FailedPreconditionError(
        absl::StrCat("device '", device, "' does not exist: libtorch sees ", gpus, " GPU(s)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DeviceMemory> MemoryOf(const std::string& device) {
  if (absl::Status usable = CheckDevice(device); !usable.ok()) return usable;
  const c10::Device parsed(device);
  if (parsed.is_cpu()) return DeviceMemory{MeminfoBytes("MemTotal"), MeminfoBytes("MemAvailable")};
#if CODEC_WITH_CUDA
  const c10::cuda::CUDAGuard guard(parsed.has_index() ? parsed.index() : 0);
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
    return absl::InternalError(absl::StrCat("cudaMemGetInfo failed on ", device));
  }
  return DeviceMemory{static_cast<int64_t>(total_bytes), static_cast<int64_t>(free_bytes)};
#else
  return absl::FailedPreconditionError("built without CUDA");
#endif
}

void AllowTf32(bool allow) {
  tf32_allowed = allow;
  ApplyTf32Choice();
}

void ApplyTf32Choice() {
  at::globalContext().setAllowTF32CuBLAS(tf32_allowed);
  at::globalContext().setAllowTF32CuDNN(tf32_allowed);
}

std::shared_ptr<void> UseOwnStream(const std::string& device) {
  const c10::Device parsed(device);
  if (!parsed.is_cuda()) return nullptr;
#if CODEC_WITH_CUDA
  const c10::DeviceIndex index = parsed.has_index() ? parsed.index() : 0;
  return std::make_shared<c10::cuda::CUDAStreamGuard>(c10::cuda::getStreamFromPool(false, index));
#else
  return nullptr;  // CheckDevice refuses GPUs without CUDA.
#endif
}

}  // namespace codec
