#include "backends/nn/blas_order_products.h"

#include <ATen/ATen.h>

#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// On this project's machines (AVX2 and FMA, OpenBLAS or the reference
// BLAS) one of the orders matches the codecs' shapes (codebooks without
// bias, LSTM gates with bias, longer than OpenBLAS's chunk), and whenever a
// shortcut is made the products of fresh rows equal libtorch's one-row
// product to the bit.
TEST(BlasOrderProductsTest, EqualsTheOneRowMatrixProductToTheBit) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    GTEST_SKIP() << "no AVX2 and FMA";
  }
  at::manual_seed(3);
  for (const auto& [entries, dim, with_bias, codec_shape] :
       {std::tuple<int64_t, int64_t, bool, bool>{1024, 128, false, true},
        {2048, 512, true, true},
        {64, 8, true, false},
        {16, 300, false, false},
        {24, 700, true, false}}) {
    const at::Tensor m = at::randn({entries, dim}) * 0.1;
    const at::Tensor bias = with_bias ? at::randn({entries}) : at::Tensor();
    const std::unique_ptr<BlasOrderProducts> products = BlasOrderProducts::Make(m, bias);
    if (!codec_shape && products == nullptr) continue;
    ASSERT_NE(products, nullptr) << entries << "x" << dim;
    for (int row = 0; row < 20; ++row) {
      const at::Tensor x = at::randn({1, dim});
      std::vector<float> got(entries);
      products->Compute(x.data_ptr<float>(), got.data());
      const at::Tensor want = with_bias ? at::addmm(bias, x, m.t()) : x.matmul(m.t());
      EXPECT_TRUE(at::equal(at::tensor(got), want[0])) << entries << "x" << dim << " row " << row;
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
