#ifndef BACKENDS_RUNTIME_CPU_BLOCK_CACHE_H_
#define BACKENDS_RUNTIME_CPU_BLOCK_CACHE_H_

#include <c10/core/Allocator.h>
#include <torch/version.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace codec {

// libtorch's CPU allocator, keeping freed large blocks for reuse.
//
// A model call allocates every activation afresh, and libtorch's default
// allocator hands a large block back to the kernel when it is freed: the
// next call's block of the same size is new memory, and its first touch
// costs a page fault per 4 KiB page plus the kernel zeroing it (a fresh
// 60 MB tensor costs several times the pass that fills it). Here blocks of
// at least kLargeBlockBytes are rounded up to whole huge pages (the kernel
// is asked to back them with huge pages), and when freed they are kept, up
// to `max_cached_bytes` in all, for the next allocation of the same rounded
// size; past the bound the least recently freed go back to the kernel.
// Smaller blocks are libtorch's own (glibc reuses those without faults).
//
// One per process (InstallCpuBlockCache), thread-safe.
class CpuBlockCache final : public c10::Allocator {
 public:
  static constexpr size_t kLargeBlockBytes = size_t{1} << 20;
  static constexpr size_t kHugePageBytes = size_t{2} << 20;

  // libtorch 2.3 made allocate non-const and added copy_data; the block
  // cache serves both interfaces (Debian's libtorch 1.13, the wheels' 2.x).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t bytes) override { return Allocate(bytes); }
  void copy_data(void* dest, const void* src, size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(size_t bytes) const override { return Allocate(bytes); }
#endif
  c10::DeleterFnPtr raw_deleter() const override { return &Release; }

  // Bytes of freed blocks held for reuse.
  size_t cached_bytes() const;
  // Blocks handed out that came from the cache, and that were new.
  int64_t reused_blocks() const;
  int64_t new_blocks() const;

 private:
  friend absl::Status InstallCpuBlockCache(int64_t max_cached_mb);
  explicit CpuBlockCache(size_t max_cached_bytes) : max_cached_bytes_(max_cached_bytes) {}

  // The deleter of every block this allocator hands out (libtorch's oneDNN
  // glue frees through raw_deleter() with only the data pointer).
  static void Release(void* data);
  void Give(void* data);

  c10::DataPtr Allocate(size_t bytes) const;
  void* TakeLarge(size_t rounded) const;

  const size_t max_cached_bytes_;
  mutable absl::Mutex mu_;
  // Large blocks handed out, by address, with their rounded size.
  mutable std::unordered_map<void*, size_t> in_use_ ABSL_GUARDED_BY(mu_);
  // Freed large blocks, the least recently freed first, and an index by size.
  mutable std::list<std::pair<size_t, void*>> cached_ ABSL_GUARDED_BY(mu_);
  mutable std::unordered_multimap<size_t, std::list<std::pair<size_t, void*>>::iterator>
      cached_by_size_ ABSL_GUARDED_BY(mu_);
  mutable size_t cached_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t reused_blocks_ ABSL_GUARDED_BY(mu_) = 0;
  mutable int64_t new_blocks_ ABSL_GUARDED_BY(mu_) = 0;
};

// Makes a CpuBlockCache of `max_cached_mb` MiB libtorch's CPU allocator for
// the rest of the process (0: leaves libtorch's own); INVALID_ARGUMENT for a
// negative size. Call first thing in main; later calls change nothing.
absl::Status InstallCpuBlockCache(int64_t max_cached_mb);

// The installed cache, or null.
const CpuBlockCache* InstalledCpuBlockCache();

}  // namespace codec

#endif  // BACKENDS_RUNTIME_CPU_BLOCK_CACHE_H_
