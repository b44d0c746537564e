#include "server/serving/compute_slots.h"

#include <algorithm>
#include <thread>

#include "absl/time/time.h"

namespace codec::server {

bool ComputeSlots::TurnCame(Waiter* waiter) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const ComputeSlots& slots = *waiter->slots;  // Called with slots.mutex_ held.
  return slots.free_ > 0 && slots.queue_.front() == waiter->ticket;
}

absl::Status ComputeSlots::Acquire(const StopCheck& stop) {
  if (!bounded_) return absl::OkStatus();
  absl::MutexLock lock(&mutex_);
  Waiter waiter{this, next_ticket_++};
  const auto place = queue_.insert(queue_.end(), waiter.ticket);
  while (!mutex_.AwaitWithTimeout(absl::Condition(&ComputeSlots::TurnCame, &waiter),
                                  kStopCheckInterval)) {
    if (!stop) continue;
    if (absl::Status stopped = stop(); !stopped.ok()) {
      queue_.erase(place);
      return stopped;
    }
  }
  queue_.pop_front();
  --free_;
  return absl::OkStatus();
}

void ComputeSlots::Release() {
  if (!bounded_) return;
  absl::MutexLock lock(&mutex_);
  ++free_;
}

int CallsPerMachine(int intra_op_threads) {
  return std::max(
      1, static_cast<int>(std::thread::hardware_concurrency()) / std::max(1, intra_op_threads));
}

}  // namespace codec::server
