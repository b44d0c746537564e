#include "server/step_executor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/core/stream_batch.h"

namespace codec::server {

// How often a queued step looks at its StopCheck.
constexpr absl::Duration kStopPollInterval = absl::Milliseconds(10);

StepExecutor::StepExecutor(Options options, ComputeSlots& slots)
    : options_(options), slots_(slots), thread_([this] { Loop(); }) {}

StepExecutor::~StepExecutor() {
  {
    absl::MutexLock lock(&mutex_);
    ending_ = true;
  }
  thread_.join();
}

StepExecutor::Seat::Seat(StepExecutor& executor) : executor_(executor) {
  absl::MutexLock lock(&executor_.mutex_);
  ++executor_.seats_;
}

StepExecutor::Seat::~Seat() {
  absl::MutexLock lock(&executor_.mutex_);
  --executor_.seats_;
}

absl::StatusOr<Codes> StepExecutor::Push(EncodeStream& session, const Audio& chunk,
                                         const StopCheck& stop) {
  Step step;
  step.kind = Kind::kEncode;
  step.encode = &session;
  step.audio = &chunk;
  if (absl::Status run = Submit(step, stop); !run.ok()) return run;
  return std::move(step.codes);
}

absl::StatusOr<Audio> StepExecutor::Push(DecodeStream& session, const Codes& chunk,
                                         const StopCheck& stop) {
  Step step;
  step.kind = Kind::kDecode;
  step.decode = &session;
  step.tokens = &chunk;
  if (absl::Status run = Submit(step, stop); !run.ok()) return run;
  return std::move(step.decoded);
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
  queue_.push_back(&step);
  while (!mutex_.AwaitWithTimeout(absl::Condition(&step.done), kStopPollInterval)) {
    if (step.taken || !stop) continue;
    if (absl::Status stopped = stop(); !stopped.ok()) {
      queue_.erase(std::find(queue_.begin(), queue_.end(), &step));
      return stopped;
    }
  }
  return absl::OkStatus();
}

bool StepExecutor::BatchReady() const {
  if (ending_ || queue_.empty()) return true;
  const Kind kind = queue_.front()->kind;
  if (kind == Kind::kAlone) return true;
  const int same = static_cast<int>(std::count_if(
      queue_.begin(), queue_.end(), [kind](const Step* s) { return s->kind == kind; }));
  return same >= std::min(options_.max_batch, std::max(1, seats_));
}

std::vector<StepExecutor::Step*> StepExecutor::NextBatch() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    auto work_or_end = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return ending_ || !queue_.empty();
    };
    mutex_.Await(absl::Condition(&work_or_end));
    if (queue_.empty()) return {};  // Ending, and nothing left to run.
    // The first step waits for company until its window closes.
    const absl::Time window_end = queue_.front()->queued_at + options_.batch_window;
    if (options_.max_batch > 1) {
      mutex_.AwaitWithDeadline(absl::Condition(this, &StepExecutor::BatchReady), window_end);
    }
    if (queue_.empty()) continue;  // The steps left (stopped) while waiting.
    const Kind kind = queue_.front()->kind;
    std::vector<Step*> batch;
    const size_t most = kind == Kind::kAlone ? 1 : static_cast<size_t>(options_.max_batch);
    for (auto it = queue_.begin(); it != queue_.end() && batch.size() < most;) {
      if ((*it)->kind != kind) {
        ++it;
        continue;
      }
      (*it)->taken = true;
      batch.push_back(*it);
      it = queue_.erase(it);
    }
    if (kind != Kind::kAlone) {
      ++batches_;
      pushes_ += static_cast<int64_t>(batch.size());
    }
    return batch;
  }
}

void StepExecutor::RunBatch(const std::vector<Step*>& batch) {
  (void)slots_.Run(nullptr, [&] {
    switch (batch.front()->kind) {
      case Kind::kAlone:
        batch.front()->alone();
        break;
      case Kind::kEncode: {
        std::vector<EncodeStream*> sessions;
        std::vector<const Audio*> chunks;
        for (const Step* step : batch) {
          sessions.push_back(step->encode);
          chunks.push_back(step->audio);
        }
        std::vector<absl::StatusOr<Codes>> codes = PushEach(sessions, chunks);
        for (size_t i = 0; i < batch.size(); ++i) batch[i]->codes = std::move(codes[i]);
        break;
      }
      case Kind::kDecode: {
        std::vector<DecodeStream*> sessions;
        std::vector<const Codes*> chunks;
        for (const Step* step : batch) {
          sessions.push_back(step->decode);
          chunks.push_back(step->tokens);
        }
        std::vector<absl::StatusOr<Audio>> audio = PushEach(sessions, chunks);
        for (size_t i = 0; i < batch.size(); ++i) batch[i]->decoded = std::move(audio[i]);
        break;
      }
    }
    return absl::OkStatus();
  });
}

void StepExecutor::Loop() {
  for (std::vector<Step*> batch = NextBatch(); !batch.empty(); batch = NextBatch()) {
    if (options_.on_batch && batch.front()->kind != Kind::kAlone) {
      const absl::Time start = absl::Now();
      std::vector<absl::Duration> waits;
      for (const Step* step : batch) waits.push_back(start - step->queued_at);
      options_.on_batch(waits);
    }
    RunBatch(batch);
    absl::MutexLock lock(&mutex_);
    for (Step* step : batch) step->done = true;
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
