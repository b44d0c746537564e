#include "backends/kernels/snake_kernel.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// Snake of one sample in double precision, from the float product
// alpha * x as upstream rounds it.
double TrueSnake(float x, float alpha, float inv_alpha) {
  const double s = std::sin(static_cast<double>(alpha * x));
  return x + static_cast<double>(inv_alpha) * s * s;
}

std::vector<float> Snake(const std::vector<float>& x, float alpha, float inv_alpha) {
  std::vector<float> y(x.size());
  SnakeRow(x.data(), y.data(), static_cast<int64_t>(x.size()), alpha, inv_alpha);
  return y;
}

class SnakeKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!SnakeKernelAvailable()) GTEST_SKIP() << "this CPU has no AVX2 and FMA";
  }
};

// Within a few float ulps of the true value, for arguments from tiny to
// far beyond a period, where a float-only reduction by pi/2 loses every bit.
TEST_F(SnakeKernelTest, MatchesTheTrueSnakeOverEveryScale) {
  std::mt19937 random(5);
  for (const float scale : {1e-3f, 1.0f, 30.0f, 1e4f, 1e7f}) {
    std::normal_distribution<float> normal(0.0f, scale);
    std::vector<float> x(4099);
    for (float& v : x) v = normal(random);
    const float alpha = 0.83f, inv_alpha = 1.0f / (alpha + 1e-9f);
    const std::vector<float> y = Snake(x, alpha, inv_alpha);
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = TrueSnake(x[i], alpha, inv_alpha);
      // The rounding of x + inv_alpha * s^2 and a few ulps of s^2 inside it.
      const double tolerance =
          4 * std::numeric_limits<float>::epsilon() * (std::abs(want) + inv_alpha);
      ASSERT_NEAR(y[i], want, tolerance) << "x = " << x[i] << " at scale " << scale;
    }
  }
}

TEST_F(SnakeKernelTest, NonFiniteSamplesStayNonFinite) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> y =
      Snake({std::numeric_limits<float>::quiet_NaN(), inf, -inf, 2e9f, 0.5f}, 1.0f, 1.0f);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_FALSE(std::isfinite(y[1]));
  EXPECT_FALSE(std::isfinite(y[2]));
  EXPECT_NEAR(y[3], TrueSnake(2e9f, 1.0f, 1.0f), 2e9 * 1e-7);
  EXPECT_NEAR(y[4], TrueSnake(0.5f, 1.0f, 1.0f), 1e-6);
}

// A sample's result does not depend on its place in the row, nor on the
// row's length: a stream's chunks equal the whole file's, bit for bit.
TEST_F(SnakeKernelTest, ResultDoesNotDependOnPosition) {
  std::mt19937 random(9);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(61);
  for (float& v : x) v = normal(random);
  const std::vector<float> whole = Snake(x, 1.7f, 0.6f);
  for (size_t start = 0; start < x.size(); start += 5) {
    for (size_t length : {size_t{1}, size_t{3}, size_t{8}, size_t{13}}) {
      if (start + length > x.size()) continue;
      const std::vector<float> part(x.begin() + start, x.begin() + start + length);
      const std::vector<float> y = Snake(part, 1.7f, 0.6f);
      for (size_t i = 0; i < length; ++i) ASSERT_EQ(y[i], whole[start + i]);
    }
  }
}

}  // namespace
}  // namespace codec::nn
