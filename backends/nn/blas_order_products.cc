#include "backends/nn/blas_order_products.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>

namespace codec::nn {
namespace {

constexpr int64_t kLanes = 8;

// One row against `blocks` blocks of eight matrix rows, over the terms
// [first, last) of the dimension: each lane sums its terms in order, from
// zero, with fused multiply-adds or with a rounded product and a rounded sum
// (this file is compiled with -ffp-contract=off, so no product and sum are
// fused unasked), and adds the sum into `out`. kBlocks blocks at a time keep
// that many independent sums in flight.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

template <bool kFused, int64_t kBlocks>
void BlockGroup(const float* x, const float* blocked, int64_t dim, int64_t first, int64_t last,
                float* out) {
  __m256 sums[kBlocks];
  for (int64_t g = 0; g < kBlocks; ++g) sums[g] = _mm256_setzero_ps();
  for (int64_t k = first; k < last; ++k) {
    const __m256 xk = _mm256_set1_ps(x[k]);
    for (int64_t g = 0; g < kBlocks; ++g) {
      const __m256 m = _mm256_loadu_ps(blocked + (g * dim + k) * kLanes);
      sums[g] = kFused ? _mm256_fmadd_ps(xk, m, sums[g])
                       : _mm256_add_ps(sums[g], _mm256_mul_ps(xk, m));
    }
  }
  for (int64_t g = 0; g < kBlocks; ++g) {
    float* lanes = out + g * kLanes;
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_loadu_ps(lanes), sums[g]));
  }
}

template <bool kFused>
void BlockedProducts(const float* x, const float* blocked, int64_t blocks, int64_t dim,
                     int64_t chunk, float* out) {
  constexpr int64_t kGroup = 8;
  int64_t b = 0;
  for (; b + kGroup <= blocks; b += kGroup) {
    for (int64_t first = 0; first < dim; first += chunk) {
      BlockGroup<kFused, kGroup>(x, blocked + b * dim * kLanes, dim, first,
                                 std::min(dim, first + chunk), out + b * kLanes);
    }
  }
  for (; b < blocks; ++b) {
    for (int64_t first = 0; first < dim; first += chunk) {
      BlockGroup<kFused, 1>(x, blocked + b * dim * kLanes, dim, first,
                            std::min(dim, first + chunk), out + b * kLanes);
    }
  }
}

#pragma GCC pop_options

}  // namespace

BlasOrderProducts::BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, bool fused,
                                     int64_t chunk)
    : entries_(m.size(0)),
      dim_(m.size(1)),
      fused_(fused),
      chunk_(chunk),
      blocked_(m.view({entries_ / kLanes, kLanes, dim_}).transpose(1, 2).contiguous()),
      bias_(bias.defined() ? bias.contiguous() : at::zeros({entries_}, m.options())) {}

void BlasOrderProducts::Compute(const float* x, float* out) const {
  // The matrix streams from memory once per row; two cores fetch it faster
  // than one.
  constexpr int64_t kBlocksPerTask = 32;
  const float* blocked = blocked_.data_ptr<float>();
  std::copy_n(bias_.data_ptr<float>(), entries_, out);
  at::parallel_for(0, entries_ / kLanes, kBlocksPerTask, [&](int64_t first, int64_t last) {
    const float* from = blocked + first * dim_ * kLanes;
    float* into = out + first * kLanes;
    if (fused_) {
      BlockedProducts<true>(x, from, last - first, dim_, chunk_, into);
    } else {
      BlockedProducts<false>(x, from, last - first, dim_, chunk_, into);
    }
  });
}

std::unique_ptr<BlasOrderProducts> BlasOrderProducts::Make(const at::Tensor& m,
                                                           const at::Tensor& bias) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return nullptr;
  if (m.dim() != 2 || m.scalar_type() != at::kFloat || m.size(0) % kLanes != 0 ||
      m.size(0) == 0 || m.size(1) == 0 ||
      (bias.defined() && (bias.scalar_type() != at::kFloat || bias.numel() != m.size(0)))) {
    return nullptr;
  }
  const at::Tensor matrix = m.contiguous();
  const at::Tensor flat_bias = bias.defined() ? bias.reshape({-1}) : bias;
  const int64_t dim = matrix.size(1);
  auto products = std::unique_ptr<BlasOrderProducts>(
      new BlasOrderProducts(matrix, flat_bias, /*fused=*/true, dim));
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(/*seed_in=*/20261125);
  // Two rows, each through the BLAS alone, as the shortcut stands in for.
  const at::Tensor x = at::randn({2, dim}, generator, matrix.options());
  auto one_row = [&](int64_t row) {
    const at::Tensor single = x.narrow(0, row, 1);
    return flat_bias.defined() ? at::addmm(flat_bias, single, matrix.t())
                               : single.matmul(matrix.t());
  };
  const at::Tensor want = at::cat({one_row(0), one_row(1)});
  at::Tensor got = at::empty_like(want);
  for (bool fused : {true, false}) {
    for (int64_t chunk : {dim, int64_t{256}, int64_t{384}, int64_t{128}, int64_t{512}}) {
      if (chunk > dim) continue;
      products->fused_ = fused;
      products->chunk_ = chunk;
      for (int64_t row = 0; row < x.size(0); ++row) {
        products->Compute(x[row].data_ptr<float>(), got[row].data_ptr<float>());
      }
      if (at::equal(got, want)) return products;
    }
  }
  return nullptr;
}

}  // namespace codec::nn
