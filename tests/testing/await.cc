#include "tests/testing/await.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"

namespace codec::testing {

absl::Duration EventDeadline() {
  const char* test_timeout = std::getenv("TEST_TIMEOUT");
  int seconds = 0;
  if (test_timeout == nullptr || !absl::SimpleAtoi(test_timeout, &seconds) || seconds <= 0) {
    return absl::Seconds(30);
  }
  return absl::Seconds(seconds) / 2;
}

bool Eventually(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

absl::Status HoldUntilReleased(PeakCount& peak, absl::Notification& release,
                               absl::Notification* entered) {
  peak.Enter();
  if (entered != nullptr) entered->Notify();
  const bool released = release.WaitForNotificationWithTimeout(EventDeadline());
  peak.Leave();
  return released ? absl::OkStatus() : absl::DeadlineExceededError("never released");
}

void AwaitableCount::Add(int n) {
  absl::MutexLock lock(&mutex_);
  count_ += n;
}

int AwaitableCount::value() const {
  absl::MutexLock lock(&mutex_);
  return count_;
}

bool AwaitableCount::AwaitAtLeast(int target, absl::Duration timeout) const {
  absl::MutexLock lock(&mutex_);
  auto reached = [this, target]()
                     ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return count_ >= target; };
  return mutex_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace codec::testing
