#ifndef BACKENDS_KERNELS_BLAS_ORDER_PRODUCTS_H_
#define BACKENDS_KERNELS_BLAS_ORDER_PRODUCTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace codec::nn {

// How the reference BLAS sums the rounded products of a row with a bias:
// its matrix-vector product (libtorch's one-row and linear products) sums
// them in order from zero and adds the sum to the bias; its plain matrix
// product (libtorch's im2col convolution) adds them one by one into the
// result, which starts as the bias.
enum class ReferenceSum { kFromZero, kIntoBias };

// The AVX2 kernel behind RowByRowProducts: the products of rows with every
// row of a matrix, plus an optional bias, b_j + x . m_j, each product
// rounded and summed as `ReferenceSum` says (the file is compiled without
// contracting a product and a sum into one rounding). The matrix is kept
// blocked eight rows side by side, so a streaming step's one row does not
// pay for packing the whole matrix as a BLAS call would, and the rows are
// split over the intra-op threads. Every entry is summed in the same order
// whatever the number of rows and the tiling: a row's products do not
// depend on the rows beside it. Thread-safe after Make().
class BlasOrderProducts {
 public:
  // Up to this many rows (a streaming step's frames) layers take their
  // products one row at a time without tensor operations; beyond it through
  // tensor operations, whose cost per call is then shared by enough rows.
  static constexpr int64_t kMostRowsOneByOne = 4;

  // m: float [entries, dim]; bias: float [entries] or undefined. Null where
  // the CPU lacks AVX2 or the entries are not a multiple of eight.
  static std::unique_ptr<BlasOrderProducts> Make(const at::Tensor& m, const at::Tensor& bias = {},
                                                 ReferenceSum sum = ReferenceSum::kFromZero);
  // x: rows x `dim` floats; out: rows x `entries` floats.
  void Compute(const float* x, int64_t rows, float* out) const;

  int64_t entries() const { return entries_; }

 private:
  BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, ReferenceSum sum);

  int64_t entries_;
  int64_t dim_;
  ReferenceSum sum_;
  at::Tensor blocked_;  // [entries / 8, dim, 8]: eight rows side by side.
  at::Tensor bias_;     // [entries], zeros without bias.
};

// Products of many rows with a matrix (+ bias), every row rounded in the
// reference BLAS's order whatever the number of rows and whatever BLAS
// libtorch uses. A layer that computes so gives a frame the same bits
// offline and in a stream of any chunking (libtorch's own product would not:
// OpenBLAS rounds a row of a several-row product by the number of rows), and
// the bits of the reference codecs' runs (made with the reference BLAS).
// Thread-safe; made once per loaded weight. Off the exact host kernels
// (weights on a GPU, or HostKernels::kDeviceSequence) the products are
// libtorch's (no reference order there).
class RowByRowProducts {
 public:
  // m: float [entries, dim]; bias: float [entries] or undefined.
  RowByRowProducts(const at::Tensor& m, const at::Tensor& bias = {},
                   ReferenceSum sum = ReferenceSum::kFromZero);

  // x: float [rows, dim] -> [rows, entries].
  at::Tensor operator()(const at::Tensor& x) const;
  // x: rows x dim floats; out: rows x entries floats (host weights only).
  void Compute(const float* x, int64_t rows, float* out) const;

  int64_t entries() const { return entries_; }

 private:
  int64_t entries_;
  int64_t dim_;
  ReferenceSum sum_;
  std::unique_ptr<BlasOrderProducts> fast_;
  // Without the AVX2 kernel, a plain loop in the same order over these;
  // off the exact host kernels, libtorch's product of these.
  at::Tensor matrix_;
  at::Tensor bias_;
};

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_BLAS_ORDER_PRODUCTS_H_
