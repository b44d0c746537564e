#ifndef SERVER_SERVING_COMPUTE_SLOTS_H_
#define SERVER_SERVING_COMPUTE_SLOTS_H_

#include <cstdint>
#include <list>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "backends/core/codec_options.h"

namespace codec::server {

// Bounds how many model calls run at once. libtorch runs each call on its
// own team of intra-op threads; more calls than cores / threads oversubscribe
// the CPU, and every synchronised parallel region then waits on the
// scheduler. Measured on 2 cores (docs/BENCHMARKS.md): 64 concurrent
// 2-thread calls of a small model served 0.9 requests/s in total, the same
// calls one at a time 68. Calls beyond the bound wait for a slot, first come
// first served, so no caller starves under load.
class ComputeSlots {
 public:
  // `slots` calls at a time; 0 means no bound.
  explicit ComputeSlots(int slots) : free_(slots), bounded_(slots > 0) {}
  ComputeSlots(const ComputeSlots&) = delete;
  ComputeSlots& operator=(const ComputeSlots&) = delete;

  // Runs `work` (which returns an absl::Status or absl::StatusOr) once a slot
  // is free and every call that came earlier has one. While it waits, `stop`
  // is polled every few milliseconds; when it says stop, Run leaves the
  // queue and returns its status without running `work`.
  template <typename Work>
  std::invoke_result_t<Work> Run(const StopCheck& stop, Work work) {
    if (absl::Status acquired = Acquire(stop); !acquired.ok()) return acquired;
    const SlotRelease release{this};
    return work();
  }

  // Calls waiting for a slot now.
  int waiting() const {
    absl::MutexLock lock(&mutex_);
    return static_cast<int>(queue_.size());
  }

 private:
  struct SlotRelease {
    ComputeSlots* slots;
    ~SlotRelease() { slots->Release(); }
  };

  // A waiting call: its turn comes when it heads the queue and a slot is free.
  struct Waiter {
    ComputeSlots* slots;
    int64_t ticket;
  };
  static bool TurnCame(Waiter* waiter);

  absl::Status Acquire(const StopCheck& stop);
  void Release();

  mutable absl::Mutex mutex_;
  int free_ ABSL_GUARDED_BY(mutex_);
  std::list<int64_t> queue_ ABSL_GUARDED_BY(mutex_);  // Tickets, oldest first.
  int64_t next_ticket_ ABSL_GUARDED_BY(mutex_) = 0;
  const bool bounded_;
};

// As many calls as the machine's cores hold at `intra_op_threads` threads
// each (at least 1): the bound that keeps calls from oversubscribing.
int CallsPerMachine(int intra_op_threads);

}  // namespace codec::server

#endif  // SERVER_SERVING_COMPUTE_SLOTS_H_
