#ifndef BACKENDS_KERNELS_SNAKE_KERNEL_H_
#define BACKENDS_KERNELS_SNAKE_KERNEL_H_

#include <cstdint>

namespace codec::nn {

// Snake over one channel's samples in one pass: y = x + inv_alpha *
// sin(alpha * x)^2, each product and sum rounded as upstream's op-by-op
// form rounds it, and the sine libtorch's vectorised at::sin computes
// (SLEEF's, within 1 ulp), so results are those of the op-by-op form on
// libtorch's vector path. Every sample takes the same path, so a sample's
// result does not depend on where it lies in the row (a stream's chunks
// equal the whole file's).
//
// Built with AVX2 and FMA: call only where SnakeKernelAvailable().
bool SnakeKernelAvailable();
void SnakeRow(const float* x, float* y, int64_t n, float alpha, float inv_alpha);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_SNAKE_KERNEL_H_
