#include "server/serving/idle_watch.h"

#include <gtest/gtest.h>

namespace codec::server {
namespace {

// A clock the test moves; the watch's own thread checks the real clock's
// periods but reads this one, so only the test's Check calls matter.
struct FakeClock {
  absl::Time now = absl::UnixEpoch();
  IdleWatch::Clock get() {
    return [this] { return now; };
  }
};

TEST(IdleWatchTest, OnlyWaitsLongerThanTheTimeoutCancel) {
  FakeClock clock;
  IdleWatch watch(absl::Hours(1), clock.get());
  int quiet_cancels = 0, busy_cancels = 0, lively_cancels = 0;
  std::unique_ptr<IdleWatch::Stream> quiet = watch.Watch([&] { ++quiet_cancels; });
  std::unique_ptr<IdleWatch::Stream> busy = watch.Watch([&] { ++busy_cancels; });
  std::unique_ptr<IdleWatch::Stream> lively = watch.Watch([&] { ++lively_cancels; });
  quiet->BeginWait();
  lively->BeginWait();
  // `busy` computes (no wait open); `lively` gets a message every half hour.
  for (int step = 0; step < 4; ++step) {
    clock.now += absl::Minutes(30);
    lively->EndWait();
    lively->BeginWait();
    watch.Check();
  }
  EXPECT_EQ(quiet_cancels, 1) << "cancelled once, when its wait passed the hour";
  EXPECT_TRUE(quiet->timed_out());
  EXPECT_EQ(busy_cancels, 0);
  EXPECT_FALSE(busy->timed_out());
  EXPECT_EQ(lively_cancels, 0);
  // A wait of exactly the timeout is still allowed; a moment more is not.
  busy->BeginWait();
  clock.now += absl::Hours(1);
  watch.Check();
  EXPECT_EQ(busy_cancels, 0);
  clock.now += absl::Seconds(1);
  watch.Check();
  EXPECT_EQ(busy_cancels, 1);
}

TEST(IdleWatchTest, NoTimeoutWatchesNothing) {
  FakeClock clock;
  IdleWatch watch(absl::ZeroDuration(), clock.get());
  int cancels = 0;
  std::unique_ptr<IdleWatch::Stream> stream = watch.Watch([&] { ++cancels; });
  stream->BeginWait();
  clock.now += absl::Hours(100);
  watch.Check();
  EXPECT_EQ(cancels, 0);
}

}  // namespace
}  // namespace codec::server
