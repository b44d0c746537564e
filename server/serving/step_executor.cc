#include "server/serving/step_executor.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace codec::server {

StepExecutor::StepExecutor(Options options, ComputeSlots& slots)
    : options_(std::move(options)),
      slots_(slots),
      thread_([this] { Loop(); }),
      watcher_([this] { WatchStops(); }) {}

StepExecutor::~StepExecutor() {
  {
    absl::MutexLock lock(&mutex_);
    ending_ = true;
    work_changed_.Signal();
    queue_watched_.Signal();
  }
  thread_.join();
  watcher_.join();
}

StepExecutor::Seat::Seat(StepExecutor& executor) : executor_(executor) {
  absl::MutexLock lock(&executor_.mutex_);
  ++executor_.seats_;
}

StepExecutor::Seat::~Seat() {
  absl::MutexLock lock(&executor_.mutex_);
  --executor_.seats_;
  executor_.work_changed_.Signal();  // Fewer seats may complete a batch.
}

absl::Status StepExecutor::Submit(Step& step, const StopCheck& stop) {
  absl::MutexLock lock(&mutex_);
  if (ending_) return absl::UnavailableError("the model's executor is shutting down");
  if (options_.max_queued > 0 && static_cast<int>(queue_.size()) >= options_.max_queued) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the model's queue is full (", options_.max_queued,
                     " steps wait); try again later or on another replica"));
  }
  step.queued_at = absl::Now();
  step.stop = stop ? &stop : nullptr;
  queue_.push_back(&step);
  if (step.run_batch != nullptr) ++queued_pushes_[step.run_batch];
  if (step.stop != nullptr && queued_with_stop_++ == 0) queue_watched_.Signal();
  work_changed_.Signal();
  while (!step.done && step.left.ok()) step.finished.Wait(&mutex_);
  return step.left;
}

std::deque<StepExecutor::Step*>::iterator StepExecutor::Dequeue(std::deque<Step*>::iterator it) {
  const Step* step = *it;
  if (step->run_batch != nullptr && --queued_pushes_[step->run_batch] == 0) {
    queued_pushes_.erase(step->run_batch);
  }
  if (step->stop != nullptr) --queued_with_stop_;
  return queue_.erase(it);
}

bool StepExecutor::BatchReady() const {
  if (ending_ || queue_.empty()) return true;
  const Step::RunBatch kind = queue_.front()->run_batch;
  if (kind == nullptr) return true;
  return queued_pushes_.at(kind) >= std::min(options_.max_batch, std::max(1, seats_));
}

std::vector<StepExecutor::Step*> StepExecutor::NextBatch() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    while (!ending_ && queue_.empty()) work_changed_.Wait(&mutex_);
    if (queue_.empty()) return {};  // Ending, and nothing left to run.
    // The first step waits for company until its window closes.
    const absl::Time window_end = queue_.front()->queued_at + options_.batch_window;
    if (options_.max_batch > 1) {
      while (!BatchReady() && !work_changed_.WaitWithDeadline(&mutex_, window_end)) {
      }
    }
    if (queue_.empty()) continue;  // The steps left (stopped) while waiting.
    std::vector<Step*> batch = TakeBatch();
    if (!batch.empty()) return batch;  // Else every one taken had stopped.
  }
}

std::vector<StepExecutor::Step*> StepExecutor::TakeBatch() {
  const Step::RunBatch kind = queue_.front()->run_batch;
  std::vector<Step*> batch;
  const size_t most = kind == nullptr ? 1 : static_cast<size_t>(options_.max_batch);
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < most;) {
    if ((*it)->run_batch != kind) {
      ++it;
      continue;
    }
    // Asked once more at its turn: the watcher looks only every
    // kStopCheckInterval, and a caller gone since then (cancelled, or past a
    // deadline that passed while an earlier step ran) must not reach the
    // model.
    if (absl::Status stopped = StopStatus(**it); !stopped.ok()) {
      it = EndStopped(it, std::move(stopped));
      continue;
    }
    (*it)->taken = true;
    batch.push_back(*it);
    it = Dequeue(it);
  }
  if (kind != nullptr && !batch.empty()) {
    ++batches_;
    pushes_ += static_cast<int64_t>(batch.size());
  }
  return batch;
}

absl::Status StepExecutor::StopStatus(const Step& step) {
  // Stop checks are cheap reads (a deadline, a cancellation flag), and a
  // step's check lives only while the step is queued: read under the lock.
  return step.stop != nullptr ? (*step.stop)() : absl::OkStatus();
}

std::deque<StepExecutor::Step*>::iterator StepExecutor::EndStopped(std::deque<Step*>::iterator it,
                                                                   absl::Status stopped) {
  Step* step = *it;
  it = Dequeue(it);
  step->left = std::move(stopped);
  step->finished.Signal();
  work_changed_.Signal();
  return it;
}

void StepExecutor::RunBatch(const std::vector<Step*>& batch) {
  (void)slots_.Run(nullptr, [&] {
    if (batch.front()->run_batch == nullptr) {
      batch.front()->RunAlone();
    } else {
      batch.front()->run_batch(batch);
    }
    return absl::OkStatus();
  });
}

void StepExecutor::Loop() {
  const std::shared_ptr<void> context =
      options_.thread_context ? options_.thread_context() : nullptr;
  for (std::vector<Step*> batch = NextBatch(); !batch.empty(); batch = NextBatch()) {
    if (options_.on_batch && batch.front()->run_batch != nullptr) {
      const absl::Time start = absl::Now();
      std::vector<absl::Duration> waits;
      for (const Step* step : batch) waits.push_back(start - step->queued_at);
      options_.on_batch(waits);
    }
    RunBatch(batch);
    absl::MutexLock lock(&mutex_);
    for (Step* step : batch) {
      step->done = true;
      step->finished.Signal();
    }
  }
}

void StepExecutor::WatchStops() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    while (!ending_ && queued_with_stop_ == 0) queue_watched_.Wait(&mutex_);
    if (ending_) return;  // The queued steps run before the executor ends.
    queue_watched_.WaitWithTimeout(&mutex_, kStopCheckInterval);
    for (auto it = queue_.begin(); it != queue_.end();) {
      absl::Status stopped = StopStatus(**it);
      it = stopped.ok() ? std::next(it) : EndStopped(it, std::move(stopped));
    }
  }
}

StepExecutor::Stats StepExecutor::stats() const {
  absl::MutexLock lock(&mutex_);
  return Stats{.queued = static_cast<int>(queue_.size()),
               .seats = seats_,
               .batches = batches_,
               .pushes = pushes_};
}

}  // namespace codec::server
