#include "server/serving/compute_slots.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/await.h"

namespace codec::server {
namespace {

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

// Eight calls through two slots: two run and hold their slots while six
// wait (seen in the queue, not inferred from timing); released, all run,
// never more than two at once.
TEST(ComputeSlotsTest, RunsAtMostTheBoundAtOnce) {
  ComputeSlots slots(2);
  testing::PeakCount running;
  testing::AwaitableCount finished;
  absl::Notification release;
  testing::JoiningThreads calls([&] { release.Notify(); });
  for (int i = 0; i < 8; ++i) {
    calls.Start([&] {
      const absl::Status status =
          slots.Run({}, [&] { return testing::HoldUntilReleased(running, release); });
      EXPECT_TRUE(status.ok()) << status;
      finished.Add();
    });
  }
  EXPECT_TRUE(testing::Eventually([&] { return running.inside() == 2 && slots.waiting() == 6; }))
      << running.inside() << " running, " << slots.waiting() << " waiting";
  calls.JoinAll();
  EXPECT_EQ(finished.value(), 8);
  EXPECT_EQ(running.most(), 2);
}

// Without a bound, eight calls are inside at once: each waits for all eight.
TEST(ComputeSlotsTest, ZeroMeansNoBound) {
  ComputeSlots slots(0);
  testing::PeakCount running;
  testing::AwaitableCount inside;
  testing::JoiningThreads calls;
  for (int i = 0; i < 8; ++i) {
    calls.Start([&] {
      EXPECT_TRUE(slots
                      .Run({},
                           [&]() -> absl::Status {
                             running.Enter();
                             inside.Add();
                             const bool all = inside.AwaitAtLeast(8);
                             running.Leave();
                             return all ? absl::OkStatus()
                                        : absl::DeadlineExceededError("not all inside at once");
                           })
                      .ok());
    });
  }
  calls.JoinAll();
  EXPECT_EQ(running.most(), 8);
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
  testing::JoiningThreads waiters([&] { holder.Release(); });
  for (int i = 0; i < 6; ++i) {
    waiters.Start([&, i] {
      EXPECT_TRUE(slots
                      .Run({},
                           [&]() -> absl::Status {
                             std::lock_guard<std::mutex> lock(order_mutex);
                             order.push_back(i);
                             return absl::OkStatus();
                           })
                      .ok());
    });
    ASSERT_TRUE(testing::Eventually([&] { return slots.waiting() == i + 1; }))
        << "call " << i << " never queued";
  }
  waiters.JoinAll();
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
