#include "backends/kernels/host_kernels.h"

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace codec::nn {
namespace {

std::atomic<HostKernels> host_kernels{HostKernels::kExact};

}  // namespace

absl::StatusOr<HostKernels> ParseHostKernels(absl::string_view name) {
  if (name == "exact") return HostKernels::kExact;
  if (name == "device") return HostKernels::kDeviceSequence;
  return absl::InvalidArgumentError(
      absl::StrCat("host kernels '", name, "' are not one of: exact, device"));
}

void SetHostKernels(HostKernels kernels) {
  host_kernels.store(kernels, std::memory_order_relaxed);
}

HostKernels CurrentHostKernels() { return host_kernels.load(std::memory_order_relaxed); }

bool UsesExactHostKernels(const at::Tensor& x) { return UsesExactHostKernels(x.device()); }

bool UsesExactHostKernels(at::Device device) {
  return device.is_cpu() && CurrentHostKernels() == HostKernels::kExact;
}

}  // namespace codec::nn
