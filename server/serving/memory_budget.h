#ifndef SERVER_SERVING_MEMORY_BUDGET_H_
#define SERVER_SERVING_MEMORY_BUDGET_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace codec::server {

// The memory all streams together may hold. A stream reserves what it
// needs when it starts and as its message in hand grows, and gives it back
// as it shrinks and when it ends; a reservation that would take the total
// over the budget fails at once with RESOURCE_EXHAUSTED (it never waits), so
// a flood of streams or of large messages is refused instead of growing the
// process until the kernel kills it, and every stream already admitted
// keeps its share.
class MemoryBudget {
 public:
  // `bytes` in all; 0 means no bound.
  explicit MemoryBudget(int64_t bytes) : budget_(bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // One stream's share; released when destroyed.
  class Reservation {
   public:
    explicit Reservation(MemoryBudget& budget) : budget_(&budget) {}
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { budget_->Give(bytes_); }

    // Holds `bytes` from now on (more or less than before). Growing past
    // the budget is RESOURCE_EXHAUSTED and leaves the reservation as it was.
    absl::Status Resize(int64_t bytes);
    int64_t bytes() const { return bytes_; }

   private:
    MemoryBudget* budget_;
    int64_t bytes_ = 0;
  };

  // Bytes reserved by all streams now.
  int64_t reserved() const {
    absl::MutexLock lock(&mutex_);
    return reserved_;
  }

 private:
  bool Take(int64_t bytes);
  void Give(int64_t bytes);

  const int64_t budget_;
  mutable absl::Mutex mutex_;
  int64_t reserved_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace codec::server

#endif  // SERVER_SERVING_MEMORY_BUDGET_H_
