#include "server/serving/idle_watch.h"

#include <algorithm>

namespace codec::server {

IdleWatch::IdleWatch(absl::Duration timeout, Clock now) : timeout_(timeout), now_(std::move(now)) {
  if (!enabled()) return;
  const absl::Duration period = std::clamp(timeout_ / 4, absl::Milliseconds(10), absl::Seconds(1));
  checker_ = std::thread([this, period] {
    absl::MutexLock lock(&mutex_);
    while (!mutex_.AwaitWithTimeout(absl::Condition(&stopping_), period)) {
      mutex_.Unlock();
      Check();
      mutex_.Lock();
    }
  });
}

IdleWatch::~IdleWatch() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (checker_.joinable()) checker_.join();
}

std::unique_ptr<IdleWatch::Stream> IdleWatch::Watch(std::function<void()> cancel) {
  std::unique_ptr<Stream> stream(new Stream(this, std::move(cancel)));
  if (enabled()) {
    absl::MutexLock lock(&mutex_);
    streams_.insert(stream.get());
  }
  return stream;
}

void IdleWatch::Check() {
  const absl::Time now = now_();
  absl::MutexLock lock(&mutex_);
  for (Stream* stream : streams_) {
    if (!stream->timed_out_ && now - stream->waiting_since_ > timeout_) {
      stream->timed_out_ = true;
      stream->cancel_();  // Under the lock: the record cannot go away meanwhile.
    }
  }
}

IdleWatch::Stream::~Stream() {
  absl::MutexLock lock(&watch_->mutex_);
  watch_->streams_.erase(this);
}

void IdleWatch::Stream::BeginWait() {
  const absl::Time now = watch_->now_();
  absl::MutexLock lock(&watch_->mutex_);
  waiting_since_ = now;
}

void IdleWatch::Stream::EndWait() {
  absl::MutexLock lock(&watch_->mutex_);
  waiting_since_ = absl::InfiniteFuture();
}

bool IdleWatch::Stream::timed_out() const {
  absl::MutexLock lock(&watch_->mutex_);
  return timed_out_;
}

}  // namespace codec::server
