#include "backends/kernels/blas_order_products.h"

#include <ATen/ATen.h>

#include <memory>
#include <tuple>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// Several rows in one call tile the matrix differently from one row, but
// every entry keeps its order of summation: the bits are the one-row bits.
TEST(BlasOrderProductsTest, RowsTogetherEqualRowsAlone) {
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "no AVX2";
  at::manual_seed(4);
  for (const auto& [entries, dim] : {std::pair<int64_t, int64_t>{1024, 128}, {40, 300}, {8, 700}}) {
    const at::Tensor m = at::randn({entries, dim});
    const at::Tensor bias = at::randn({entries});
    for (const ReferenceSum sum : {ReferenceSum::kFromZero, ReferenceSum::kIntoBias}) {
      const std::unique_ptr<BlasOrderProducts> products = BlasOrderProducts::Make(m, bias, sum);
      ASSERT_NE(products, nullptr);
      for (int64_t rows : {2, 3, 4, 5, 9}) {
        const at::Tensor x = at::randn({rows, dim});
        at::Tensor together = at::empty({rows, entries});
        products->Compute(x.data_ptr<float>(), rows, together.data_ptr<float>());
        at::Tensor alone = at::empty({rows, entries});
        for (int64_t r = 0; r < rows; ++r) {
          products->Compute(x[r].data_ptr<float>(), 1, alone[r].data_ptr<float>());
        }
        EXPECT_TRUE(at::equal(together, alone)) << entries << "x" << dim << ", " << rows << " rows";
      }
    }
  }
}

// The reference BLAS's order, written out: each product rounded, summed in
// order from zero then added to the bias, or added one by one into the
// result starting from the bias.
at::Tensor ReferenceOrder(const at::Tensor& x, const at::Tensor& m, const at::Tensor& bias,
                          ReferenceSum order) {
  at::Tensor out = at::empty({x.size(0), m.size(0)});
  for (int64_t r = 0; r < x.size(0); ++r) {
    for (int64_t j = 0; j < m.size(0); ++j) {
      const float start = bias.defined() ? bias[j].item<float>() : 0.0f;
      float sum = order == ReferenceSum::kIntoBias ? start : 0.0f;
      for (int64_t k = 0; k < m.size(1); ++k) {
        const volatile float product = x[r][k].item<float>() * m[j][k].item<float>();
        sum = sum + product;
      }
      out[r][j] = order == ReferenceSum::kIntoBias ? sum : start + sum;
    }
  }
  return out;
}

// Whatever BLAS libtorch uses, with or without the AVX2 shortcut (entries
// not a multiple of eight take the plain loop).
TEST(RowByRowProductsTest, TakesTheReferenceBlasOrderForAnyRowCount) {
  at::manual_seed(5);
  for (const ReferenceSum order : {ReferenceSum::kFromZero, ReferenceSum::kIntoBias}) {
    for (const auto& [entries, dim, with_bias] :
         {std::tuple<int64_t, int64_t, bool>{16, 40, true}, {8, 300, false}, {12, 24, true}}) {
      const at::Tensor m = at::randn({entries, dim});
      const at::Tensor bias = with_bias ? at::randn({entries}) * 10 : at::Tensor();
      const RowByRowProducts products(m, bias, order);
      const at::Tensor x = at::randn({6, dim});
      const at::Tensor got = products(x);
      EXPECT_TRUE(at::equal(got, ReferenceOrder(x, m, bias, order))) << entries << "x" << dim;
      EXPECT_TRUE(at::equal(got.narrow(0, 2, 1), products(x.narrow(0, 2, 1))));
    }
  }
}

TEST(BlasOrderProductsTest, RefusesWhatItCannotBlock) {
  EXPECT_EQ(BlasOrderProducts::Make(at::randn({10, 4})), nullptr);  // Not a multiple of 8.
  EXPECT_EQ(BlasOrderProducts::Make(at::randn({8, 4}).to(at::kDouble)), nullptr);
  EXPECT_EQ(BlasOrderProducts::Make(at::randn({8, 4}), at::randn({7})), nullptr);
}

}  // namespace
}  // namespace codec::nn
