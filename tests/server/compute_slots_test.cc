#include "server/serving/compute_slots.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace codec::server {
namespace {

// Runs `calls` calls of 20 ms on as many threads through `slots`; returns
// the most that ran at once.
int MostAtOnce(ComputeSlots& slots, int calls) {
  std::atomic<int> running{0}, most{0}, done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < calls; ++i) {
    threads.emplace_back([&] {
      const absl::Status status = slots.Run({}, [&]() -> absl::Status {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        absl::SleepFor(absl::Milliseconds(20));
        --running;
        return absl::OkStatus();
      });
      EXPECT_TRUE(status.ok()) << status;
      ++done;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(done, calls);
  return most;
}

// Takes a slot on a thread of its own and keeps it until Release().
class SlotHolder {
 public:
  explicit SlotHolder(ComputeSlots& slots)
      : thread_([this, &slots] {
          EXPECT_TRUE(slots
                          .Run({},
                               [this]() -> absl::Status {
                                 holding_.Notify();
                                 release_.WaitForNotification();
                                 return absl::OkStatus();
                               })
                          .ok());
        }) {
    holding_.WaitForNotification();
  }
  ~SlotHolder() { Release(); }

  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
    if (thread_.joinable()) thread_.join();
  }

 private:
  absl::Notification holding_, release_;
  std::thread thread_;
};

TEST(ComputeSlotsTest, RunsAtMostTheBoundAtOnce) {
  ComputeSlots slots(2);
  EXPECT_EQ(MostAtOnce(slots, 8), 2);
}

TEST(ComputeSlotsTest, ZeroMeansNoBound) {
  ComputeSlots slots(0);
  EXPECT_GT(MostAtOnce(slots, 8), 2);
}

TEST(ComputeSlotsTest, AWaitingCallStopsWithItsStatusAndNeverRuns) {
  ComputeSlots slots(1);
  SlotHolder holder(slots);
  int polls = 0;
  bool ran = false;
  const StopCheck stop = [&]() -> absl::Status {
    return ++polls < 3 ? absl::OkStatus() : absl::DeadlineExceededError("deadline");
  };
  absl::StatusOr<int> result = slots.Run(stop, [&]() -> absl::StatusOr<int> {
    ran = true;
    return 1;
  });
  EXPECT_EQ(result.status(), absl::DeadlineExceededError("deadline"));
  EXPECT_EQ(polls, 3);
  EXPECT_FALSE(ran);
  EXPECT_EQ(slots.waiting(), 0) << "a stopped call leaves the queue";
  holder.Release();
  // The slot it held is free again.
  const absl::StatusOr<int> again = slots.Run(stop, [] { return absl::StatusOr<int>(7); });
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 7);
}

TEST(ComputeSlotsTest, WaitingCallsTakeTurnsInArrivalOrder) {
  ComputeSlots slots(1);
  SlotHolder holder(slots);
  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> waiters;
  for (int i = 0; i < 6; ++i) {
    waiters.emplace_back([&, i] {
      EXPECT_TRUE(slots
                      .Run({},
                           [&]() -> absl::Status {
                             std::lock_guard<std::mutex> lock(order_mutex);
                             order.push_back(i);
                             return absl::OkStatus();
                           })
                      .ok());
    });
    while (slots.waiting() < i + 1) absl::SleepFor(absl::Milliseconds(1));
  }
  holder.Release();
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(slots.waiting(), 0);
}

TEST(ComputeSlotsTest, CallsPerMachineKeepsThreadsWithinCores) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(CallsPerMachine(1), cores);
  EXPECT_EQ(CallsPerMachine(cores), 1);
  EXPECT_EQ(CallsPerMachine(4 * cores), 1);
  EXPECT_EQ(CallsPerMachine(0), cores);
}

}  // namespace
}  // namespace codec::server
