#ifndef BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_
#define BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace codec::nn {

// The products of a row with every row of a matrix, plus an optional bias,
// b_j + x . m_j, rounded exactly as libtorch's one-row product
// `at::addmm(b, x, m.t())` (or `x.matmul(m.t())` without bias) rounds them,
// at a fraction of its cost: for a single row the BLAS spends more time
// packing the matrix than multiplying. Streaming steps work on one frame.
//
// BLAS kernels accumulate each product over the shared dimension in order,
// in chunks of a fixed length (all of it in the reference BLAS, 256 in
// OpenBLAS's), each chunk's sum added to the result (which starts as the
// bias); within a chunk with fused multiply-adds (OpenBLAS on FMA CPUs) or
// a rounded product then a rounded sum (the reference BLAS). Make() finds
// which of these the BLAS in use does by comparing each with its product to
// the bit; when none matches, or the CPU lacks AVX2 and FMA, there is no
// exact shortcut and Make() returns null. (OpenBLAS rounds some entries of
// products of several rows differently, depending on the number of rows: a
// product's last bits are not a property of the row alone there.)
//
// Thread-safe after Make(); shared by every session of a loaded model.
//
// How the reference BLAS sums the rounded products of a row with a bias:
// its matrix-vector product (libtorch's one-row and linear products) sums
// them in order from zero and adds the sum to the bias; its plain matrix
// product (libtorch's im2col convolution) adds them one by one into the
// result, which starts as the bias.
enum class ReferenceSum { kFromZero, kIntoBias };

class BlasOrderProducts {
 public:
  // Up to this many rows (a streaming step's frames) layers take their
  // products one row at a time without tensor operations; beyond it through
  // tensor operations, whose cost per call is then shared by enough rows.
  static constexpr int64_t kMostRowsOneByOne = 4;

  // m: float [entries, dim]; bias: float [entries] or undefined.
  static std::unique_ptr<BlasOrderProducts> Make(const at::Tensor& m, const at::Tensor& bias = {});
  // The same shortcut in the reference BLAS's order (each product rounded,
  // then summed as `sum` says) whatever BLAS libtorch uses; null where the
  // CPU lacks AVX2 and FMA or the entries are not a multiple of eight.
  static std::unique_ptr<BlasOrderProducts> MakeReferenceOrder(
      const at::Tensor& m, const at::Tensor& bias = {}, ReferenceSum sum = ReferenceSum::kFromZero);
  // x: rows x `dim` floats; out: rows x `entries` floats. Each row's
  // products are the same whether computed alone or beside others.
  void Compute(const float* x, int64_t rows, float* out) const;

  int64_t entries() const { return entries_; }

 private:
  BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, bool fused, int64_t chunk);

  int64_t entries_;
  int64_t dim_;
  bool fused_;
  int64_t chunk_;       // Terms summed before adding into the result; 1: each added.
  at::Tensor blocked_;  // [entries / 8, dim, 8]: eight rows side by side.
  at::Tensor bias_;     // [entries], zeros without bias.
};

// Products of many rows with a matrix (+ bias), every row rounded in the
// reference BLAS's order whatever the number of rows and whatever BLAS
// libtorch uses. A layer that computes so gives a frame the same bits
// offline and in a stream of any chunking (libtorch's own product would not:
// OpenBLAS rounds a row of a several-row product by the number of rows), and
// the bits of the reference codecs' runs (made with the reference BLAS).
// Thread-safe; made once per loaded weight.
class RowByRowProducts {
 public:
  // m: float [entries, dim]; bias: float [entries] or undefined.
  RowByRowProducts(const at::Tensor& m, const at::Tensor& bias = {},
                   ReferenceSum sum = ReferenceSum::kFromZero);

  // x: float [rows, dim] -> [rows, entries].
  at::Tensor operator()(const at::Tensor& x) const;
  // x: rows x dim floats; out: rows x entries floats.
  void Compute(const float* x, int64_t rows, float* out) const;

  int64_t entries() const { return matrix_.size(0); }

 private:
  at::Tensor matrix_;
  at::Tensor bias_;
  ReferenceSum sum_;
  std::unique_ptr<BlasOrderProducts> fast_;  // Null: a plain loop in the same order.
};

}  // namespace codec::nn

#endif  // BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_
