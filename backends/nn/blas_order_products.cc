#include "backends/nn/blas_order_products.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <type_traits>

namespace codec::nn {
namespace {

constexpr int64_t kLanes = 8;

// kRows rows against kBlocks blocks of eight matrix rows, over the terms
// [first, last) of the dimension: each lane sums its terms in order, from
// zero (then adds the sum into `out`) or from `out`'s value (kFromOut), with
// fused multiply-adds or with a rounded product and a rounded sum (this file
// is compiled with -ffp-contract=off, so no product and sum are fused
// unasked). Every entry is summed in the
// same order whatever the tile, so a row's products do not depend on the
// rows beside it; the tile only decides how many independent sums are in
// flight and how often a block of the matrix is loaded.
#pragma GCC push_options
#pragma GCC target("avx2,fma")

template <bool kFused, bool kFromOut, int64_t kRows, int64_t kBlocks>
void Tile(const float* x, int64_t dim, const float* blocked, int64_t first, int64_t last,
          float* out, int64_t entries) {
  __m256 sums[kRows][kBlocks];
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t g = 0; g < kBlocks; ++g) {
      sums[r][g] = kFromOut ? _mm256_loadu_ps(out + r * entries + g * kLanes) : _mm256_setzero_ps();
    }
  }
  for (int64_t k = first; k < last; ++k) {
    __m256 m[kBlocks];
    for (int64_t g = 0; g < kBlocks; ++g) m[g] = _mm256_loadu_ps(blocked + (g * dim + k) * kLanes);
    for (int64_t r = 0; r < kRows; ++r) {
      const __m256 xk = _mm256_set1_ps(x[r * dim + k]);
      for (int64_t g = 0; g < kBlocks; ++g) {
        sums[r][g] = kFused ? _mm256_fmadd_ps(xk, m[g], sums[r][g])
                            : _mm256_add_ps(sums[r][g], _mm256_mul_ps(xk, m[g]));
      }
    }
  }
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t g = 0; g < kBlocks; ++g) {
      float* lanes = out + r * entries + g * kLanes;
      _mm256_storeu_ps(lanes,
                       kFromOut ? sums[r][g] : _mm256_add_ps(_mm256_loadu_ps(lanes), sums[r][g]));
    }
  }
}

// `rows` rows against kBlocks blocks, chunk after chunk; chunks of one term
// each are summed straight into `out`, which gives the same bits.
template <bool kFused, int64_t kBlocks>
void BlockColumn(const float* x, int64_t rows, int64_t dim, const float* blocked, int64_t chunk,
                 float* out, int64_t entries) {
  constexpr int64_t kRowsPerTile = 4;
  auto tiles = [&](auto rows_per_tile, int64_t r) {
    constexpr int64_t kRows = decltype(rows_per_tile)::value;
    if (chunk == 1) {
      Tile<kFused, true, kRows, kBlocks>(x + r * dim, dim, blocked, 0, dim, out + r * entries,
                                         entries);
      return;
    }
    for (int64_t first = 0; first < dim; first += chunk) {
      Tile<kFused, false, kRows, kBlocks>(x + r * dim, dim, blocked, first,
                                          std::min(dim, first + chunk), out + r * entries, entries);
    }
  };
  int64_t r = 0;
  for (; r + kRowsPerTile <= rows; r += kRowsPerTile) {
    tiles(std::integral_constant<int64_t, kRowsPerTile>(), r);
  }
  for (; r < rows; ++r) tiles(std::integral_constant<int64_t, 1>(), r);
}

// Blocks [0, blocks) of the matrix, whose first entry is out's first column.
template <bool kFused>
void BlockedProducts(const float* x, int64_t rows, int64_t dim, const float* blocked,
                     int64_t blocks, int64_t chunk, float* out, int64_t entries) {
  // One row keeps eight sums in flight across blocks; several rows share
  // each load of a block between them.
  const int64_t group = rows == 1 ? 8 : 2;
  int64_t b = 0;
  for (; b + group <= blocks; b += group) {
    const float* from = blocked + b * dim * kLanes;
    float* into = out + b * kLanes;
    if (group == 8) {
      BlockColumn<kFused, 8>(x, rows, dim, from, chunk, into, entries);
    } else {
      BlockColumn<kFused, 2>(x, rows, dim, from, chunk, into, entries);
    }
  }
  for (; b < blocks; ++b) {
    BlockColumn<kFused, 1>(x, rows, dim, blocked + b * dim * kLanes, chunk, out + b * kLanes,
                           entries);
  }
}

#pragma GCC pop_options

// Whether the kernels can run here on this float matrix (entries a multiple
// of eight) and bias.
bool CanBlock(const at::Tensor& m, const at::Tensor& bias) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && m.dim() == 2 &&
         m.scalar_type() == at::kFloat && m.size(0) % kLanes == 0 && m.size(0) > 0 &&
         m.size(1) > 0 &&
         (!bias.defined() || (bias.scalar_type() == at::kFloat && bias.numel() == m.size(0)));
}

}  // namespace

BlasOrderProducts::BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, bool fused,
                                     int64_t chunk)
    : entries_(m.size(0)),
      dim_(m.size(1)),
      fused_(fused),
      chunk_(chunk),
      blocked_(m.view({entries_ / kLanes, kLanes, dim_}).transpose(1, 2).contiguous()),
      bias_(bias.defined() ? bias.contiguous() : at::zeros({entries_}, m.options())) {}

void BlasOrderProducts::Compute(const float* x, int64_t rows, float* out) const {
  // The matrix streams from memory once per call; two cores fetch it faster
  // than one.
  const int64_t blocks_per_task = std::max<int64_t>(2, 32 / rows);
  const float* blocked = blocked_.data_ptr<float>();
  const float* bias = bias_.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) std::copy_n(bias, entries_, out + r * entries_);
  at::parallel_for(0, entries_ / kLanes, blocks_per_task, [&](int64_t first, int64_t last) {
    const float* from = blocked + first * dim_ * kLanes;
    float* into = out + first * kLanes;
    if (fused_) {
      BlockedProducts<true>(x, rows, dim_, from, last - first, chunk_, into, entries_);
    } else {
      BlockedProducts<false>(x, rows, dim_, from, last - first, chunk_, into, entries_);
    }
  });
}

std::unique_ptr<BlasOrderProducts> BlasOrderProducts::Make(const at::Tensor& m,
                                                           const at::Tensor& bias) {
  if (!CanBlock(m, bias)) return nullptr;
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
    for (int64_t chunk :
         {dim, int64_t{256}, int64_t{384}, int64_t{128}, int64_t{512}, int64_t{1}}) {
      if (chunk > dim) continue;
      products->fused_ = fused;
      products->chunk_ = chunk;
      for (int64_t row = 0; row < x.size(0); ++row) {
        products->Compute(x[row].data_ptr<float>(), /*rows=*/1, got[row].data_ptr<float>());
      }
      if (at::equal(got, want)) return products;
    }
  }
  return nullptr;
}

std::unique_ptr<BlasOrderProducts> BlasOrderProducts::MakeReferenceOrder(const at::Tensor& m,
                                                                         const at::Tensor& bias,
                                                                         ReferenceSum sum) {
  if (!CanBlock(m, bias)) return nullptr;
  return std::unique_ptr<BlasOrderProducts>(
      new BlasOrderProducts(m.contiguous(), bias.defined() ? bias.reshape({-1}) : bias,
                            /*fused=*/false,
                            /*chunk=*/sum == ReferenceSum::kFromZero ? m.size(1) : 1));
}

RowByRowProducts::RowByRowProducts(const at::Tensor& m, const at::Tensor& bias, ReferenceSum sum)
    : matrix_(m.contiguous()),
      bias_(bias.defined() ? bias.reshape({-1}).contiguous() : bias),
      sum_(sum),
      fast_(BlasOrderProducts::MakeReferenceOrder(matrix_, bias_, sum)) {}

at::Tensor RowByRowProducts::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == matrix_.size(1) && x.scalar_type() == at::kFloat,
              "row-by-row products need float [rows, ", matrix_.size(1), "], got ", x.sizes());
  const at::Tensor rows = x.contiguous();
  at::Tensor out = at::empty({rows.size(0), entries()}, rows.options());
  Compute(rows.data_ptr<float>(), rows.size(0), out.data_ptr<float>());
  return out;
}

void RowByRowProducts::Compute(const float* x, int64_t rows, float* out) const {
  if (fast_) {
    fast_->Compute(x, rows, out);
    return;
  }
  const int64_t entries = matrix_.size(0), dim = matrix_.size(1);
  const float* m = matrix_.data_ptr<float>();
  const float* bias = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < entries; ++j) {
      const float start = bias == nullptr ? 0.0f : bias[j];
      // -ffp-contract=off: each product rounded, then the sum.
      float sum = sum_ == ReferenceSum::kIntoBias ? start : 0.0f;
      for (int64_t k = 0; k < dim; ++k) sum += x[r * dim + k] * m[j * dim + k];
      out[r * entries + j] = sum_ == ReferenceSum::kIntoBias ? sum : start + sum;
    }
  }
}

}  // namespace codec::nn
