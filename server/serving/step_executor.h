#ifndef SERVER_SERVING_STEP_EXECUTOR_H_
#define SERVER_SERVING_STEP_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/core/codec_options.h"
#include "backends/core/codec_stream.h"
#include "backends/core/stream_batch.h"
#include "server/serving/compute_slots.h"

namespace codec::server {

// Runs the steps of one model's streams on one device, pushes of several
// streams as one batch.
//
// Streams submit a step (a push of one chunk into their session, or other
// work such as Finish) and wait for its result. One thread takes the steps
// in arrival order. A push waits at most `batch_window` for pushes of other
// streams to join it (not at all once every stream with a seat has one
// queued), then up to `max_batch` queued pushes of its direction run as one
// (PushEach); other work runs alone. Each batch runs inside one of the
// device's ComputeSlots, so the device's bound on parallel forward passes
// holds across models. A stream waits for each step before its next, so its
// steps never overtake each other.
//
// A step beyond `max_queued` waiting ones is refused (RESOURCE_EXHAUSTED).
// While queued, a step leaves the queue with its status when its stop check
// says stop, and the check is asked once more as the step is taken, so a
// step whose caller has gone never runs; once taken it runs with its batch
// (the batch's layers stop only when every stream in it stops). Destruction
// runs the queued steps, then ends the threads.
//
// Wake-ups are bounded per step, not per unit of time: a waiting stream
// sleeps on its own step's condition until the step ran or left; the
// executor's thread wakes when a step arrives, a seat frees or a window
// closes; one watcher per executor reads the queued steps' stop checks
// every few milliseconds while any wait (gRPC's synchronous API says
// nothing when a client cancels: its cancellation can only be read).
class StepExecutor {
 public:
  struct Options {
    int max_batch = 1;
    absl::Duration batch_window = absl::ZeroDuration();
    int max_queued = 0;  // 0: no bound.
    // Told of each batch of pushes as it starts, on the executor's thread:
    // how long each of its steps waited in the queue. Optional (metrics).
    std::function<void(absl::Span<const absl::Duration> queue_waits)> on_batch;
    // Called on the executor's thread as it starts; what it returns is kept
    // until the thread ends (a replica's own CUDA stream). Optional.
    std::function<std::shared_ptr<void>()> thread_context;
  };
  struct Stats {
    int queued = 0;       // Steps waiting now.
    int seats = 0;        // Streams holding a seat now.
    int64_t batches = 0;  // Batches of pushes run so far,
    int64_t pushes = 0;   // and the pushes they held.
  };

  StepExecutor(Options options, ComputeSlots& slots);
  ~StepExecutor();
  StepExecutor(const StepExecutor&) = delete;
  StepExecutor& operator=(const StepExecutor&) = delete;

  // Pushes `chunk` into `session` (an EncodeStream or a DecodeStream) in a
  // batch with other streams' pushes of the same direction; returns what
  // its Push returns, or why it did not run.
  template <typename In, typename Out>
  absl::StatusOr<Out> Push(CodecStream<In, Out>& session, const In& chunk, const StopCheck& stop) {
    PushStep<In, Out> step(session, chunk);
    if (absl::Status run = Submit(step, stop); !run.ok()) return run;
    return std::move(step.result);
  }

  // Runs `work` (returning an absl::Status or absl::StatusOr) alone, in turn.
  template <typename Work>
  std::invoke_result_t<Work> RunAlone(const StopCheck& stop, Work work) {
    std::invoke_result_t<Work> result;
    AloneStep step([&] { result = work(); });
    if (absl::Status run = Submit(step, stop); !run.ok()) return run;
    return result;
  }

  // A stream that will push here, for as long as it lives: while every
  // seated stream has a push queued, a batch need not wait for company.
  class Seat {
   public:
    explicit Seat(StepExecutor& executor);
    ~Seat();
    Seat(const Seat&) = delete;
    Seat& operator=(const Seat&) = delete;

   private:
    StepExecutor& executor_;
  };

  Stats stats() const;

 private:
  // A queued unit of work. Pushes of one direction share `run_batch` (which
  // runs a batch of them, this kind only); other work has none and runs
  // alone.
  struct Step {
    using RunBatch = void (*)(absl::Span<Step* const> batch);
    explicit Step(RunBatch run_batch) : run_batch(run_batch) {}
    virtual ~Step() = default;
    virtual void RunAlone() {}

    const RunBatch run_batch;
    const StopCheck* stop = nullptr;
    absl::Time queued_at;
    absl::CondVar finished;  // Signalled once `done` or `left`.
    bool taken = false;      // Out of the queue, in a batch.
    bool done = false;       // Ran.
    absl::Status left;       // Why it left the queue without running.
  };
  template <typename In, typename Out>
  struct PushStep final : Step {
    PushStep(CodecStream<In, Out>& session, const In& chunk)
        : Step(&RunPushes), session(session), chunk(chunk) {}
    static void RunPushes(absl::Span<Step* const> batch) {
      std::vector<CodecStream<In, Out>*> sessions;
      std::vector<const In*> chunks;
      for (Step* step : batch) {
        sessions.push_back(&static_cast<PushStep*>(step)->session);
        chunks.push_back(&static_cast<PushStep*>(step)->chunk);
      }
      std::vector<absl::StatusOr<Out>> results = PushEach(sessions, chunks);
      for (size_t i = 0; i < batch.size(); ++i) {
        static_cast<PushStep*>(batch[i])->result = std::move(results[i]);
      }
    }
    CodecStream<In, Out>& session;
    const In& chunk;
    absl::StatusOr<Out> result = absl::InternalError("not run");
  };
  struct AloneStep final : Step {
    explicit AloneStep(std::function<void()> work) : Step(nullptr), work(std::move(work)) {}
    void RunAlone() override { work(); }
    std::function<void()> work;
  };

  // Queues `step` and waits until it ran: its result is then in the step.
  // An error when it was refused or stopped before it ran.
  absl::Status Submit(Step& step, const StopCheck& stop);
  // The next batch, taken from the queue; empty when the executor ends.
  std::vector<Step*> NextBatch();
  bool BatchReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The first queued step's kind of steps, up to a batch, out of the queue;
  // those whose stop says stop end instead (empty if all did).
  // REQUIRES: the queue is not empty.
  std::vector<Step*> TakeBatch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // What `step`'s stop says now (OK without one).
  static absl::Status StopStatus(const Step& step);
  // Takes the step at `it` out of the queue; the step after it.
  std::deque<Step*>::iterator Dequeue(std::deque<Step*>::iterator it)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Ends the queued step at `it` with `stopped`, unrun; the step after it.
  std::deque<Step*>::iterator EndStopped(std::deque<Step*>::iterator it, absl::Status stopped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void RunBatch(const std::vector<Step*>& batch);
  void Loop();
  // The watcher: queued steps whose stop check says stop leave the queue.
  void WatchStops();

  const Options options_;
  ComputeSlots& slots_;
  mutable absl::Mutex mutex_;
  absl::CondVar work_changed_;   // The executor's thread waits on it.
  absl::CondVar queue_watched_;  // The watcher waits on it.
  std::deque<Step*> queue_ ABSL_GUARDED_BY(mutex_);
  // Queued pushes per kind (Step::run_batch), and steps with stop checks.
  std::map<Step::RunBatch, int> queued_pushes_ ABSL_GUARDED_BY(mutex_);
  int queued_with_stop_ ABSL_GUARDED_BY(mutex_) = 0;
  int seats_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t batches_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t pushes_ ABSL_GUARDED_BY(mutex_) = 0;
  bool ending_ ABSL_GUARDED_BY(mutex_) = false;
  // Last: they start once the members above exist.
  std::thread thread_;
  std::thread watcher_;
};

}  // namespace codec::server

#endif  // SERVER_SERVING_STEP_EXECUTOR_H_
