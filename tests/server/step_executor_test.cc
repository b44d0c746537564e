#include "server/serving/step_executor.h"

#include <atomic>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/await.h"

namespace codec::server {
namespace {

// Records the batches its sessions were pushed in.
struct Recorder {
  absl::Mutex mutex;
  std::vector<int> batch_sizes ABSL_GUARDED_BY(mutex);
  std::vector<int> pushed_by ABSL_GUARDED_BY(mutex);  // Session ids, in push order.

  std::vector<int> sizes() {
    absl::MutexLock lock(&mutex);
    return batch_sizes;
  }
  std::vector<int> order() {
    absl::MutexLock lock(&mutex);
    return pushed_by;
  }
};

const char kFakeKind = 0;

// An encode session that answers a chunk with as many frames as it has
// samples; a chunk of 3 samples is "bad" (its own error).
class FakeEncode final : public EncodeStream {
 public:
  FakeEncode(int id, Recorder& recorder) : id_(id), recorder_(recorder) {}

  absl::StatusOr<Codes> Push(const Audio& audio) override { return PushBatch({this}, {&audio})[0]; }
  absl::StatusOr<Codes> Finish() override { return Codes{}; }
  BatchKey batch_key() const override { return {&kFakeKind, &recorder_}; }
  std::vector<absl::StatusOr<Codes>> PushBatch(const std::vector<EncodeStream*>& sessions,
                                               const std::vector<const Audio*>& chunks) override {
    std::vector<absl::StatusOr<Codes>> out;
    absl::MutexLock lock(&recorder_.mutex);
    recorder_.batch_sizes.push_back(static_cast<int>(sessions.size()));
    for (size_t i = 0; i < sessions.size(); ++i) {
      recorder_.pushed_by.push_back(static_cast<FakeEncode*>(sessions[i])->id_);
      if (chunks[i]->num_frames() == 3) {
        out.push_back(absl::InvalidArgumentError("bad chunk"));
        continue;
      }
      Codes codes;
      codes.levels.push_back(CodeLevel{1, chunks[i]->num_frames(), {}});
      out.push_back(codes);
    }
    return out;
  }

 private:
  const int id_;
  Recorder& recorder_;
};

Audio Samples(int64_t n) {
  return Audio{.sample_rate = 8000, .channels = 1, .samples = std::vector<float>(n)};
}

// Keeps the executor's thread busy with a step of its own until Release().
class Blocker {
 public:
  explicit Blocker(StepExecutor& executor)
      : thread_([this, &executor] {
          EXPECT_TRUE(executor
                          .RunAlone({},
                                    [this] {
                                      running_.Notify();
                                      release_.WaitForNotification();
                                      return absl::OkStatus();
                                    })
                          .ok());
        }) {
    running_.WaitForNotification();
  }
  ~Blocker() {
    Release();
    thread_.join();
  }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

 private:
  absl::Notification running_, release_;
  std::thread thread_;
};

// Whether `n` steps came to be queued (within testing::EventDeadline()).
bool AwaitQueued(const StepExecutor& executor, int n) {
  return testing::Eventually([&] { return executor.stats().queued >= n; });
}

TEST(StepExecutorTest, SeatedStreamsPushAsOneBatchWithoutWaitingForTheWindow) {
  ComputeSlots slots(1);
  Recorder recorder;
  StepExecutor executor({.max_batch = 8, .batch_window = absl::Hours(1)}, slots);
  std::vector<std::unique_ptr<StepExecutor::Seat>> seats;
  std::vector<std::unique_ptr<FakeEncode>> sessions;
  for (int i = 0; i < 4; ++i) {
    seats.push_back(std::make_unique<StepExecutor::Seat>(executor));
    sessions.push_back(std::make_unique<FakeEncode>(i, recorder));
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  {
    Blocker blocker(executor);  // So that all four queue before any runs.
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        absl::StatusOr<Codes> codes = executor.Push(*sessions[i], Samples(10 + i), {});
        ok += codes.ok() && codes->levels[0].frames == 10 + i;
      });
    }
    EXPECT_TRUE(AwaitQueued(executor, 4));
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(recorder.sizes(), std::vector<int>{4});
  EXPECT_EQ(executor.stats().batches, 1);
  EXPECT_EQ(executor.stats().pushes, 4);
}

TEST(StepExecutorTest, ALoneStepRunsOnceItsWindowCloses) {
  ComputeSlots slots(0);
  Recorder recorder;
  StepExecutor executor({.max_batch = 8, .batch_window = absl::Milliseconds(30)}, slots);
  StepExecutor::Seat a(executor), b(executor);  // b never pushes.
  FakeEncode session(0, recorder);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(executor.Push(session, Samples(5), {}).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  EXPECT_EQ(recorder.sizes(), std::vector<int>{1});
}

TEST(StepExecutorTest, BatchesHoldAtMostMaxBatchStepsInArrivalOrder) {
  ComputeSlots slots(0);
  Recorder recorder;
  StepExecutor executor({.max_batch = 4, .batch_window = absl::Hours(1)}, slots);
  std::vector<std::unique_ptr<FakeEncode>> sessions;
  for (int i = 0; i < 6; ++i) sessions.push_back(std::make_unique<FakeEncode>(i, recorder));
  std::vector<std::thread> threads;
  {
    Blocker blocker(executor);
    for (int i = 0; i < 6; ++i) {
      // Each stream leaves after its push, so the last two need not wait
      // for the first four to push again.
      threads.emplace_back([&, i] {
        const StepExecutor::Seat seat(executor);
        EXPECT_TRUE(executor.Push(*sessions[i], Samples(1), {}).ok());
      });
      EXPECT_TRUE(AwaitQueued(executor, i + 1));  // Arrival order is i's order.
    }
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(recorder.sizes(), (std::vector<int>{4, 2}));
  EXPECT_EQ(recorder.order(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(StepExecutorTest, OnBatchIsToldEachBatchOfPushesWithItsStepsQueueWaits) {
  ComputeSlots slots(0);
  Recorder recorder;
  absl::Mutex mutex;
  std::vector<std::vector<absl::Duration>> told;
  StepExecutor executor({.max_batch = 2,
                         .batch_window = absl::Hours(1),
                         .on_batch =
                             [&](absl::Span<const absl::Duration> waits) {
                               absl::MutexLock lock(&mutex);
                               told.emplace_back(waits.begin(), waits.end());
                             }},
                        slots);
  std::vector<std::unique_ptr<FakeEncode>> sessions;
  for (int i = 0; i < 3; ++i) sessions.push_back(std::make_unique<FakeEncode>(i, recorder));
  std::vector<std::thread> threads;
  const absl::Duration held = absl::Milliseconds(20);
  {
    Blocker blocker(executor);  // A step run alone: not a batch of pushes.
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        const StepExecutor::Seat seat(executor);
        EXPECT_TRUE(executor.Push(*sessions[i], Samples(1), {}).ok());
      });
      EXPECT_TRUE(AwaitQueued(executor, i + 1));
    }
    absl::SleepFor(held);
  }
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock lock(&mutex);
  ASSERT_EQ(told.size(), 2u);
  EXPECT_EQ(told[0].size(), 2u);
  EXPECT_EQ(told[1].size(), 1u);
  for (const std::vector<absl::Duration>& waits : told) {
    for (const absl::Duration wait : waits) EXPECT_GE(wait, held);
  }
}

TEST(StepExecutorTest, ABadChunkIsItsOwnStreamsError) {
  ComputeSlots slots(0);
  Recorder recorder;
  StepExecutor executor({.max_batch = 2, .batch_window = absl::Hours(1)}, slots);
  StepExecutor::Seat a(executor), b(executor);
  FakeEncode good(0, recorder), bad(1, recorder);
  absl::StatusOr<Codes> good_out, bad_out;
  {
    Blocker blocker(executor);
    std::thread first([&] { good_out = executor.Push(good, Samples(7), {}); });
    std::thread second([&] { bad_out = executor.Push(bad, Samples(3), {}); });
    EXPECT_TRUE(AwaitQueued(executor, 2));
    blocker.Release();
    first.join();
    second.join();
  }
  EXPECT_EQ(recorder.sizes(), std::vector<int>{2});
  ASSERT_TRUE(good_out.ok());
  EXPECT_EQ(good_out->levels[0].frames, 7);
  EXPECT_EQ(bad_out.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StepExecutorTest, StepsBeyondTheQueueCapAreRefused) {
  ComputeSlots slots(0);
  Recorder recorder;
  StepExecutor executor({.max_batch = 1, .max_queued = 2}, slots);
  FakeEncode x(0, recorder), y(1, recorder), z(2, recorder);
  Blocker blocker(executor);
  std::thread first([&] { EXPECT_TRUE(executor.Push(x, Samples(1), {}).ok()); });
  EXPECT_TRUE(AwaitQueued(executor, 1));  // So that x is queued before y.
  std::thread second([&] { EXPECT_TRUE(executor.Push(y, Samples(1), {}).ok()); });
  EXPECT_TRUE(AwaitQueued(executor, 2));
  const absl::Status refused = executor.Push(z, Samples(1), {}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  blocker.Release();
  first.join();
  second.join();
  EXPECT_EQ(recorder.order(), (std::vector<int>{0, 1}));
}

// One session on an executor of one-step batches, pushed by a caller who
// can go: its stop check says `when_gone` once `gone` is set.
struct CallerWhoCanGo {
  explicit CallerWhoCanGo(absl::Status when_gone) : when_gone(std::move(when_gone)) {}

  ComputeSlots slots{0};
  Recorder recorder;
  StepExecutor executor{StepExecutor::Options{.max_batch = 1}, slots};
  FakeEncode session{0, recorder};
  std::atomic<bool> gone{false};
  const absl::Status when_gone;
  const StopCheck stop = [this] { return gone ? when_gone : absl::OkStatus(); };
};

TEST(StepExecutorTest, AStoppedStepLeavesTheQueueWithoutRunning) {
  CallerWhoCanGo caller(absl::CancelledError("the client cancelled"));
  Blocker blocker(caller.executor);
  absl::Status outcome;
  std::thread pusher(
      [&] { outcome = caller.executor.Push(caller.session, Samples(1), caller.stop).status(); });
  EXPECT_TRUE(AwaitQueued(caller.executor, 1));
  caller.gone = true;
  pusher.join();
  EXPECT_EQ(outcome.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(caller.executor.stats().queued, 0);
  blocker.Release();
  EXPECT_TRUE(caller.recorder.order().empty());
}

// The caller goes as an earlier step ends (its deadline passes while that
// step runs): taken next, its step ends with the stop's status, unrun,
// whether or not the watcher looked in between.
TEST(StepExecutorTest, AStepWhoseCallerWentWhileAnotherRanNeverRuns) {
  CallerWhoCanGo caller(absl::DeadlineExceededError("the deadline passed"));
  StepExecutor& executor = caller.executor;
  absl::Notification running, release;
  testing::JoiningThreads threads([&] {
    if (!release.HasBeenNotified()) release.Notify();
  });
  threads.Start([&] {
    EXPECT_TRUE(executor
                    .RunAlone({},
                              [&] {
                                running.Notify();
                                release.WaitForNotification();
                                caller.gone = true;
                                return absl::OkStatus();
                              })
                    .ok());
  });
  ASSERT_TRUE(running.WaitForNotificationWithTimeout(testing::EventDeadline()));
  absl::Status outcome;
  threads.Start([&] { outcome = executor.Push(caller.session, Samples(1), caller.stop).status(); });
  ASSERT_TRUE(AwaitQueued(executor, 1));
  release.Notify();
  threads.JoinAll();
  EXPECT_EQ(outcome.code(), absl::StatusCode::kDeadlineExceeded) << outcome;
  EXPECT_TRUE(caller.recorder.order().empty()) << "the step ran after its caller had gone";
}

// Two executors share a device's one slot: while the first's step holds
// it, the second's waits in the slot's queue (seen there, not inferred from
// timing); released, both ran, never at once.
TEST(StepExecutorTest, BatchesTakeTheDevicesSlots) {
  ComputeSlots slots(1);
  StepExecutor first({.max_batch = 1}, slots), second({.max_batch = 1}, slots);
  testing::PeakCount running;
  absl::Notification first_inside, release;
  testing::JoiningThreads runs([&] { release.Notify(); });
  runs.Start([&] {
    EXPECT_TRUE(
        first
            .RunAlone({},
                      [&] { return testing::HoldUntilReleased(running, release, &first_inside); })
            .ok());
  });
  ASSERT_TRUE(first_inside.WaitForNotificationWithTimeout(testing::EventDeadline()));
  runs.Start([&] {
    EXPECT_TRUE(second
                    .RunAlone({},
                              [&] {
                                running.Enter();
                                running.Leave();
                                return absl::OkStatus();
                              })
                    .ok());
  });
  EXPECT_TRUE(testing::Eventually([&] { return slots.waiting() == 1; }))
      << "the second executor's step never waited for the slot";
  EXPECT_EQ(running.inside(), 1);
  runs.JoinAll();
  EXPECT_EQ(running.most(), 1);
}

TEST(StepExecutorTest, TheThreadContextLivesOnTheExecutorsThreadUntilItEnds) {
  ComputeSlots slots(0);
  std::thread::id made_on, work_on, released_on;
  absl::Notification released;
  {
    StepExecutor executor({.thread_context =
                               [&]() -> std::shared_ptr<void> {
                                 made_on = std::this_thread::get_id();
                                 return std::shared_ptr<void>(nullptr, [&](void*) {
                                   released_on = std::this_thread::get_id();
                                   released.Notify();
                                 });
                               }},
                          slots);
    ASSERT_TRUE(executor
                    .RunAlone({},
                              [&] {
                                work_on = std::this_thread::get_id();
                                return absl::OkStatus();
                              })
                    .ok());
    EXPECT_FALSE(released.HasBeenNotified()) << "released while the executor runs";
  }  // Joins the executor's thread.
  EXPECT_TRUE(released.HasBeenNotified());
  EXPECT_EQ(made_on, work_on);
  EXPECT_EQ(released_on, work_on);
  EXPECT_NE(work_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace codec::server
