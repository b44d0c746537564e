#include "backends/runtime/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <sys/mman.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "absl/strings/str_cat.h"

namespace codec {
namespace {

CpuBlockCache* installed = nullptr;

size_t RoundUp(size_t bytes, size_t multiple) {
  return (bytes + multiple - 1) / multiple * multiple;
}

}  // namespace

void* CpuBlockCache::TakeLarge(size_t rounded) const {
  {
    absl::MutexLock lock(&mu_);
    if (const auto found = cached_by_size_.find(rounded); found != cached_by_size_.end()) {
      void* data = found->second->second;
      cached_.erase(found->second);
      cached_by_size_.erase(found);
      cached_bytes_ -= rounded;
      ++reused_blocks_;
      in_use_.emplace(data, rounded);
      return data;
    }
  }
  void* data = std::aligned_alloc(kHugePageBytes, rounded);
  if (data == nullptr) throw std::bad_alloc();
  // Huge pages where the kernel has them: a 512th of the faults. Advice only.
  madvise(data, rounded, MADV_HUGEPAGE);
  absl::MutexLock lock(&mu_);
  ++new_blocks_;
  in_use_.emplace(data, rounded);
  return data;
}

c10::DataPtr CpuBlockCache::Allocate(size_t bytes) const {
  void* data =
      bytes >= kLargeBlockBytes ? TakeLarge(RoundUp(bytes, kHugePageBytes)) : c10::alloc_cpu(bytes);
  return {data, data, &Release, c10::Device(c10::DeviceType::CPU)};
}

void CpuBlockCache::Release(void* data) { installed->Give(data); }

void CpuBlockCache::Give(void* data) {
  if (data == nullptr) return;
  std::vector<void*> to_free;
  {
    absl::MutexLock lock(&mu_);
    const auto found = in_use_.find(data);
    if (found == in_use_.end()) {
      c10::free_cpu(data);
      return;
    }
    const size_t size = found->second;
    in_use_.erase(found);
    if (size > max_cached_bytes_) {
      to_free.push_back(data);
    } else {
      // Room for it, from the least recently freed.
      while (cached_bytes_ + size > max_cached_bytes_) {
        const auto [oldest_size, oldest] = cached_.front();
        auto range = cached_by_size_.equal_range(oldest_size);
        for (auto it = range.first; it != range.second; ++it) {
          if (it->second == cached_.begin()) {
            cached_by_size_.erase(it);
            break;
          }
        }
        cached_.pop_front();
        cached_bytes_ -= oldest_size;
        to_free.push_back(oldest);
      }
      cached_.emplace_back(size, data);
      cached_by_size_.emplace(size, std::prev(cached_.end()));
      cached_bytes_ += size;
    }
  }
  for (void* block : to_free) std::free(block);
}

size_t CpuBlockCache::cached_bytes() const {
  absl::MutexLock lock(&mu_);
  return cached_bytes_;
}

int64_t CpuBlockCache::reused_blocks() const {
  absl::MutexLock lock(&mu_);
  return reused_blocks_;
}

int64_t CpuBlockCache::new_blocks() const {
  absl::MutexLock lock(&mu_);
  return new_blocks_;
}

const CpuBlockCache* InstalledCpuBlockCache() { return installed; }

absl::Status InstallCpuBlockCache(int64_t max_cached_mb) {
  if (max_cached_mb < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a block cache of ", max_cached_mb, " MiB: 0 (off) or more"));
  }
  if (max_cached_mb == 0 || installed != nullptr) return absl::OkStatus();
  // Lives as long as the process: tensors may outlive main.
  installed = new CpuBlockCache(static_cast<size_t>(max_cached_mb) << 20);
  c10::SetCPUAllocator(installed, /*priority=*/1);
  return absl::OkStatus();
}

}  // namespace codec
