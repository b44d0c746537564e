#ifndef TESTS_TESTING_AWAIT_H_
#define TESTS_TESTING_AWAIT_H_

// What concurrent tests wait with, so that no verdict depends on the
// scheduler: each wait is for the event itself and has a deadline (a
// regression fails with a message instead of hanging until Bazel's timeout),
// counters are raised without lost updates, and threads are joined before
// an assertion can return.

#include <atomic>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace codec::testing {

// How long a test waits for an event that should come at once: long enough
// for a loaded or sanitized run, short of the test's own timeout. Half of
// Bazel's timeout for the test ($TEST_TIMEOUT, which --test_timeout raises
// for slow builds such as ThreadSanitizer's), 30 s outside Bazel.
absl::Duration EventDeadline();

// Re-reads `condition` every millisecond until it holds or `timeout` passes;
// returns whether it held. For state that has no notification a test can
// wait on (a queue's length, a model's state).
bool Eventually(const std::function<bool()>& condition, absl::Duration timeout = EventDeadline());

// A count threads raise and a test waits on.
class AwaitableCount {
 public:
  void Add(int n = 1) ABSL_LOCKS_EXCLUDED(mutex_);
  int value() const ABSL_LOCKS_EXCLUDED(mutex_);
  // Whether the count reached `target` within `timeout`.
  bool AwaitAtLeast(int target, absl::Duration timeout = EventDeadline()) const
      ABSL_LOCKS_EXCLUDED(mutex_);

 private:
  mutable absl::Mutex mutex_;
  int count_ ABSL_GUARDED_BY(mutex_) = 0;
};

// How many are inside a section at once, and the most ever: the most is
// raised by compare-exchange, so no concurrent entry is lost.
class PeakCount {
 public:
  void Enter() {
    const int now = ++inside_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
  }
  void Leave() { --inside_; }
  int inside() const { return inside_.load(); }
  int most() const { return most_.load(); }

 private:
  std::atomic<int> inside_{0};
  std::atomic<int> most_{0};
};

// The work of a call that holds its place until the test lets it go: inside
// `peak` until `release` is notified, then OK; an error if no release came
// within EventDeadline(). `entered`, if given, is notified once inside.
absl::Status HoldUntilReleased(PeakCount& peak, absl::Notification& release,
                               absl::Notification* entered = nullptr);

// Threads that are joined when this goes out of scope, after `stop` (which
// tells them to end) has run: an ASSERT that returns early leaves no
// joinable std::thread behind (whose destructor would call std::terminate).
class JoiningThreads {
 public:
  explicit JoiningThreads(std::function<void()> stop = nullptr) : stop_(std::move(stop)) {}
  ~JoiningThreads() { JoinAll(); }
  JoiningThreads(const JoiningThreads&) = delete;
  JoiningThreads& operator=(const JoiningThreads&) = delete;

  template <typename Body>
  void Start(Body body) {
    threads_.emplace_back(std::move(body));
  }
  // Runs `stop` (once) and joins every thread.
  void JoinAll() {
    if (stop_) std::exchange(stop_, nullptr)();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::function<void()> stop_;
  std::vector<std::thread> threads_;
};

}  // namespace codec::testing

#endif  // TESTS_TESTING_AWAIT_H_
