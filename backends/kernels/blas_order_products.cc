#include "backends/kernels/blas_order_products.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "backends/kernels/host_kernels.h"

namespace codec::nn {
namespace {

constexpr int64_t kLanes = 8;

// kRows rows against kBlocks blocks of eight matrix rows: each lane sums
// its rounded products in order, from zero then adds the sum into `out`
// (kFromZero), or from `out`'s value (kIntoBias). Every entry is summed in
// the same order whatever the tile, so a row's products do not depend on the
// rows beside it; the tile only decides how many independent sums are in
// flight and how often a block of the matrix is loaded. The loops over the
// tile are unrolled so that its sums stay in registers.
#pragma GCC push_options
#pragma GCC target("avx2")

template <ReferenceSum kSum, int64_t kRows, int64_t kBlocks>
void Tile(const float* x, int64_t dim, const float* blocked, float* out, int64_t entries) {
  constexpr bool kIntoOut = kSum == ReferenceSum::kIntoBias;
  __m256 sums[kRows][kBlocks];
#pragma GCC unroll 8
  for (int64_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int64_t g = 0; g < kBlocks; ++g) {
      sums[r][g] = kIntoOut ? _mm256_loadu_ps(out + r * entries + g * kLanes) : _mm256_setzero_ps();
    }
  }
  for (int64_t k = 0; k < dim; ++k) {
    __m256 m[kBlocks];
#pragma GCC unroll 8
    for (int64_t g = 0; g < kBlocks; ++g) m[g] = _mm256_loadu_ps(blocked + (g * dim + k) * kLanes);
#pragma GCC unroll 8
    for (int64_t r = 0; r < kRows; ++r) {
      const __m256 xk = _mm256_set1_ps(x[r * dim + k]);
#pragma GCC unroll 8
      for (int64_t g = 0; g < kBlocks; ++g) {
        sums[r][g] = _mm256_add_ps(sums[r][g], _mm256_mul_ps(xk, m[g]));
      }
    }
  }
#pragma GCC unroll 8
  for (int64_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 8
    for (int64_t g = 0; g < kBlocks; ++g) {
      float* lanes = out + r * entries + g * kLanes;
      _mm256_storeu_ps(lanes,
                       kIntoOut ? sums[r][g] : _mm256_add_ps(_mm256_loadu_ps(lanes), sums[r][g]));
    }
  }
}

// `rows` rows against kBlocks blocks, four rows to a tile.
template <ReferenceSum kSum, int64_t kBlocks>
void BlockColumn(const float* x, int64_t rows, int64_t dim, const float* blocked, float* out,
                 int64_t entries) {
  constexpr int64_t kRowsPerTile = 4;
  int64_t r = 0;
  for (; r + kRowsPerTile <= rows; r += kRowsPerTile) {
    Tile<kSum, kRowsPerTile, kBlocks>(x + r * dim, dim, blocked, out + r * entries, entries);
  }
  for (; r < rows; ++r)
    Tile<kSum, 1, kBlocks>(x + r * dim, dim, blocked, out + r * entries, entries);
}

// Blocks [0, blocks) of the matrix, whose first entry is out's first column.
template <ReferenceSum kSum>
void BlockedProducts(const float* x, int64_t rows, int64_t dim, const float* blocked,
                     int64_t blocks, float* out, int64_t entries) {
  // One row keeps eight sums in flight across blocks; several rows share
  // each load of a block between them.
  const int64_t group = rows == 1 ? 8 : 2;
  int64_t b = 0;
  for (; b + group <= blocks; b += group) {
    const float* from = blocked + b * dim * kLanes;
    float* into = out + b * kLanes;
    if (group == 8) {
      BlockColumn<kSum, 8>(x, rows, dim, from, into, entries);
    } else {
      BlockColumn<kSum, 2>(x, rows, dim, from, into, entries);
    }
  }
  for (; b < blocks; ++b) {
    BlockColumn<kSum, 1>(x, rows, dim, blocked + b * dim * kLanes, out + b * kLanes, entries);
  }
}

#pragma GCC pop_options

// Whether the kernels can run here on this float matrix (entries a multiple
// of eight) and bias.
bool CanBlock(const at::Tensor& m, const at::Tensor& bias) {
  return __builtin_cpu_supports("avx2") && m.dim() == 2 && m.scalar_type() == at::kFloat &&
         m.size(0) % kLanes == 0 && m.size(0) > 0 && m.size(1) > 0 &&
         (!bias.defined() || (bias.scalar_type() == at::kFloat && bias.numel() == m.size(0)));
}

}  // namespace

BlasOrderProducts::BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, ReferenceSum sum)
    : entries_(m.size(0)),
      dim_(m.size(1)),
      sum_(sum),
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
    if (sum_ == ReferenceSum::kFromZero) {
      BlockedProducts<ReferenceSum::kFromZero>(x, rows, dim_, from, last - first, into, entries_);
    } else {
      BlockedProducts<ReferenceSum::kIntoBias>(x, rows, dim_, from, last - first, into, entries_);
    }
  });
}

std::unique_ptr<BlasOrderProducts> BlasOrderProducts::Make(const at::Tensor& m,
                                                           const at::Tensor& bias,
                                                           ReferenceSum sum) {
  if (!CanBlock(m, bias)) return nullptr;
  return std::unique_ptr<BlasOrderProducts>(
      new BlasOrderProducts(m.contiguous(), bias.defined() ? bias.reshape({-1}) : bias, sum));
}

RowByRowProducts::RowByRowProducts(const at::Tensor& m, const at::Tensor& bias, ReferenceSum sum)
    : entries_(m.size(0)),
      dim_(m.size(1)),
      sum_(sum),
      fast_(m.is_cpu() ? BlasOrderProducts::Make(m, bias, sum) : nullptr),
      matrix_(m.contiguous()),
      bias_(bias.defined() ? bias.reshape({-1}).contiguous() : bias) {}

at::Tensor RowByRowProducts::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == dim_ && x.scalar_type() == at::kFloat,
              "row-by-row products need float [rows, ", dim_, "], got ", x.sizes());
  if (!UsesExactHostKernels(x)) {
    return bias_.defined() ? at::addmm(bias_, x, matrix_.t()) : at::mm(x, matrix_.t());
  }
  // For profilers and FLOP counters (free without one): the operands as a
  // matrix product's.
  RECORD_FUNCTION("codec::row_products", std::vector<c10::IValue>({x, matrix_.t()}));
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
  TORCH_CHECK(matrix_.is_cpu(), "row-by-row products of host rows need host weights");
  const int64_t entries = entries_, dim = dim_;
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
