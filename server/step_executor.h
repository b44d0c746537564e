#ifndef SERVER_STEP_EXECUTOR_H_
#define SERVER_STEP_EXECUTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "backends/core/audio.h"
#include "backends/core/codec_options.h"
#include "backends/core/codec_stream.h"
#include "backends/core/codes.h"
#include "server/compute_slots.h"

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
// While queued, a step polls its stop check and leaves the queue with its
// status; once taken it runs with its batch (the batch's layers stop only
// when every stream in it stops). Destruction runs the queued steps, then
// ends the thread.
class StepExecutor {
 public:
  struct Options {
    int max_batch = 1;
    absl::Duration batch_window = absl::ZeroDuration();
    int max_queued = 0;  // 0: no bound.
    // Told of each batch of pushes as it starts, on the executor's thread:
    // how long each of its steps waited in the queue. Optional (metrics).
    std::function<void(absl::Span<const absl::Duration> queue_waits)> on_batch;
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

  absl::StatusOr<Codes> Push(EncodeStream& session, const Audio& chunk, const StopCheck& stop);
  absl::StatusOr<Audio> Push(DecodeStream& session, const Codes& chunk, const StopCheck& stop);

  // Runs `work` (returning an absl::Status or absl::StatusOr) alone, in turn.
  template <typename Work>
  std::invoke_result_t<Work> RunAlone(const StopCheck& stop, Work work) {
    std::invoke_result_t<Work> result;
    Step step;
    step.alone = [&] { result = work(); };
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
  enum class Kind { kEncode, kDecode, kAlone };
  struct Step {
    Kind kind = Kind::kAlone;
    EncodeStream* encode = nullptr;
    const Audio* audio = nullptr;
    absl::StatusOr<Codes> codes;
    DecodeStream* decode = nullptr;
    const Codes* tokens = nullptr;
    absl::StatusOr<Audio> decoded;
    std::function<void()> alone;
    absl::Time queued_at;
    bool taken = false;
    bool done = false;
  };

  // Queues `step` and waits until it ran: its result is then in the step.
  // An error when it was refused or stopped before it ran.
  absl::Status Submit(Step& step, const StopCheck& stop);
  // The next batch, taken from the queue; empty when the executor ends.
  std::vector<Step*> NextBatch();
  bool BatchReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void RunBatch(const std::vector<Step*>& batch);
  void Loop();

  const Options options_;
  ComputeSlots& slots_;
  mutable absl::Mutex mutex_;
  std::deque<Step*> queue_ ABSL_GUARDED_BY(mutex_);
  int seats_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t batches_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t pushes_ ABSL_GUARDED_BY(mutex_) = 0;
  bool ending_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace codec::server

#endif  // SERVER_STEP_EXECUTOR_H_
