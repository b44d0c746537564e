#ifndef BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_
#define BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace codec::nn {

// The products of one row with every row of a matrix, plus an optional bias,
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
class BlasOrderProducts {
 public:
  // Up to this many rows (a streaming step's frames) the layers take their
  // products row by row; beyond it the BLAS's matrix product, whose packing
  // is then shared by enough rows.
  static constexpr int64_t kMostRowsOneByOne = 4;

  // m: float [entries, dim]; bias: float [entries] or undefined.
  static std::unique_ptr<BlasOrderProducts> Make(const at::Tensor& m, const at::Tensor& bias = {});

  // x: `dim` floats; out: `entries` floats.
  void Compute(const float* x, float* out) const;

  int64_t entries() const { return entries_; }

 private:
  BlasOrderProducts(const at::Tensor& m, const at::Tensor& bias, bool fused, int64_t chunk);

  int64_t entries_;
  int64_t dim_;
  bool fused_;
  int64_t chunk_;       // Terms summed before adding into the result.
  at::Tensor blocked_;  // [entries / 8, dim, 8]: eight rows side by side.
  at::Tensor bias_;     // [entries], zeros without bias.
};

}  // namespace codec::nn

#endif  // BACKENDS_NN_BLAS_ORDER_PRODUCTS_H_
