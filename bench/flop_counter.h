#ifndef BENCH_FLOP_COUNTER_H_
#define BENCH_FLOP_COUNTER_H_

#include <ATen/record_function.h>

#include <cstdint>

namespace codec::bench {

// Counts the floating-point operations of the convolutions and matrix
// products the calling thread runs while it is alive (2 per multiply-add),
// our row-by-row products (nn::RowByRowProducts) included,
// from their operand shapes as libtorch dispatches them. Elementwise work
// (activations, norms) is left out: it is a small share of these models and
// bound by memory, not arithmetic.
class FlopCounter {
 public:
  FlopCounter();
  ~FlopCounter();
  FlopCounter(const FlopCounter&) = delete;
  FlopCounter& operator=(const FlopCounter&) = delete;

  int64_t flops() const;

 private:
  at::CallbackHandle handle_;
};

}  // namespace codec::bench

#endif  // BENCH_FLOP_COUNTER_H_
