#ifndef SERVER_SERVING_IDLE_WATCH_H_
#define SERVER_SERVING_IDLE_WATCH_H_

#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace codec::server {

// Ends streams whose client has gone quiet. A stream's handler marks the
// times it waits on its client (for the next message, or for room to send
// one); a wait longer than the timeout cancels the stream, so a client that
// stops sending or stops reading cannot hold a thread, a lease on its model
// and its memory forever. Time spent computing never counts.
class IdleWatch {
 public:
  using Clock = std::function<absl::Time()>;

  // `timeout` of zero or infinity watches nothing. One thread checks the
  // waits a few times per timeout; `now` is the clock (tests pass their own
  // and call Check themselves).
  explicit IdleWatch(absl::Duration timeout, Clock now = absl::Now);
  ~IdleWatch();
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  // One stream's record; unwatched when destroyed.
  class Stream {
   public:
    ~Stream();

    // The stream waits on its client from now until the matching EndWait.
    void BeginWait();
    void EndWait();
    // Whether the watch cancelled the stream for waiting too long.
    bool timed_out() const;

   private:
    friend class IdleWatch;
    Stream(IdleWatch* watch, std::function<void()> cancel)
        : watch_(watch), cancel_(std::move(cancel)) {}

    IdleWatch* const watch_;
    const std::function<void()> cancel_;
    absl::Time waiting_since_ ABSL_GUARDED_BY(watch_->mutex_) = absl::InfiniteFuture();
    bool timed_out_ ABSL_GUARDED_BY(watch_->mutex_) = false;
  };

  // Watches a stream; `cancel` ends it (e.g. ServerContext::TryCancel) and
  // is called at most once, while the returned record is alive.
  std::unique_ptr<Stream> Watch(std::function<void()> cancel);

  // Cancels the streams that have waited longer than the timeout.
  void Check();

  absl::Duration timeout() const { return timeout_; }

 private:
  bool enabled() const {
    return timeout_ > absl::ZeroDuration() && timeout_ < absl::InfiniteDuration();
  }

  const absl::Duration timeout_;
  const Clock now_;
  mutable absl::Mutex mutex_;
  std::set<Stream*> streams_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread checker_;
};

}  // namespace codec::server

#endif  // SERVER_SERVING_IDLE_WATCH_H_
