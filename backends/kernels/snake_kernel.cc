#include "backends/kernels/snake_kernel.h"

#include <immintrin.h>
#include <sleef.h>

#include <cstring>

namespace codec::nn {
namespace {

// Snake of 8 samples: the sine is SLEEF's, the one libtorch's vectorised
// at::sin calls, so a sample rounds as in upstream's op-by-op form.
__m256 Snake8(__m256 x, __m256 alpha, __m256 inv_alpha) {
  const __m256 s = Sleef_sinf8_u10(_mm256_mul_ps(alpha, x));
  return _mm256_add_ps(x, _mm256_mul_ps(inv_alpha, _mm256_mul_ps(s, s)));
}

}  // namespace

bool SnakeKernelAvailable() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void SnakeRow(const float* x, float* y, int64_t n, float alpha, float inv_alpha) {
  const __m256 alpha8 = _mm256_set1_ps(alpha);
  const __m256 inv_alpha8 = _mm256_set1_ps(inv_alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, Snake8(_mm256_loadu_ps(x + i), alpha8, inv_alpha8));
  }
  if (i < n) {
    // The last few samples through the same lanes.
    alignas(32) float tail[8] = {};
    std::memcpy(tail, x + i, (n - i) * sizeof(float));
    _mm256_store_ps(tail, Snake8(_mm256_load_ps(tail), alpha8, inv_alpha8));
    std::memcpy(y + i, tail, (n - i) * sizeof(float));
  }
}

}  // namespace codec::nn
