#include "backends/runtime/cpu_block_cache.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>

namespace codec {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// The cache is per process: this binary installs one of 16 MiB.
class CpuBlockCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(InstallCpuBlockCache(16).ok()); }
  const CpuBlockCache& cache() const { return *InstalledCpuBlockCache(); }
};

at::Tensor Floats(size_t bytes) { return at::empty({static_cast<int64_t>(bytes / 4)}); }

// Leaves the cache holding one 16 MiB block, whatever earlier tests left:
// freeing a block of the whole bound evicts every other.
void HoldOneWholeBoundBlock() { at::Tensor whole = Floats(16 * kMiB); }

TEST_F(CpuBlockCacheTest, AFreedLargeBlockServesTheNextOfItsSize) {
  HoldOneWholeBoundBlock();
  const int64_t reused = cache().reused_blocks(), made = cache().new_blocks();
  void* first = nullptr;
  {
    at::Tensor t = Floats(3 * kMiB);
    first = t.data_ptr();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % CpuBlockCache::kHugePageBytes, 0u);
  }
  EXPECT_EQ(cache().new_blocks(), made + 1);
  // Rounded up to whole huge pages; it evicted the 16 MiB block.
  EXPECT_EQ(cache().cached_bytes(), 4 * kMiB);
  // Any size that rounds to the same block takes it back.
  at::Tensor again = Floats(3 * kMiB + 4096);
  EXPECT_EQ(again.data_ptr(), first);
  EXPECT_EQ(cache().reused_blocks(), reused + 1);
  EXPECT_EQ(cache().cached_bytes(), 0u);
}

TEST_F(CpuBlockCacheTest, ANegativeSizeIsRefused) {
  EXPECT_EQ(InstallCpuBlockCache(-1).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CpuBlockCacheTest, SmallBlocksAreNotCached) {
  const int64_t made = cache().new_blocks();
  const size_t cached = cache().cached_bytes();
  { at::Tensor small = Floats(kMiB / 2); }
  EXPECT_EQ(cache().new_blocks(), made);
  EXPECT_EQ(cache().cached_bytes(), cached);
}

// Past the bound the least recently freed blocks go; a block larger than
// the bound is never kept.
TEST_F(CpuBlockCacheTest, CachedBytesStayWithinTheBound) {
  HoldOneWholeBoundBlock();
  {
    at::Tensor a = Floats(6 * kMiB), b = Floats(8 * kMiB), c = Floats(4 * kMiB);
    void* b_data = b.data_ptr();
    a.reset();
    b.reset();
    c.reset();  // The 16 MiB block went for a; then 6 + 8 + 4 > 16: a goes.
    EXPECT_EQ(cache().cached_bytes(), 12 * kMiB);
    at::Tensor b_again = Floats(8 * kMiB);
    EXPECT_EQ(b_again.data_ptr(), b_data);
  }
  { at::Tensor huge = Floats(32 * kMiB); }
  EXPECT_LE(cache().cached_bytes(), 16 * kMiB);
}

// libtorch's oneDNN glue allocates through the raw interface, and a
// convolution's result equals the one made with libtorch's own allocator.
TEST_F(CpuBlockCacheTest, ModelsComputeTheSameThroughIt) {
  at::manual_seed(1);
  const at::Tensor x = at::randn({1, 64, 8192}), weight = at::randn({64, 64, 7});
  const at::Tensor first = at::conv1d(x, weight, {}, 1, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(at::equal(at::conv1d(x, weight, {}, 1, 3), first));
  EXPECT_GT(cache().reused_blocks(), 0);
}

}  // namespace
}  // namespace codec
