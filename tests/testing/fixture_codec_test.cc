#include "tests/testing/fixture_codec_test.h"

#include <algorithm>

#include "backends/io/audio_convert.h"
#include "backends/io/wav.h"

namespace codec::testing {

void FixtureCodecTest::SetUp() {
  absl::StatusOr<Fixture> fixture = LoadFixture(GetParam());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  fixture_ = *std::move(fixture);
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend = LoadFixtureBackend(fixture_);
  ASSERT_TRUE(backend.ok()) << backend.status();
  backend_ = *backend;
  desc_ = backend_->description();
  absl::StatusOr<Audio> jfk = io::ReadWav("tests/fixtures/audio/jfk.wav");
  ASSERT_TRUE(jfk.ok()) << jfk.status();
  std::string report;
  absl::StatusOr<Audio> converted =
      io::ConvertAudio(*jfk, desc_.sample_rate, desc_.channels, &report);
  ASSERT_TRUE(converted.ok()) << converted.status();
  recording_ = *std::move(converted);
}

int64_t FixtureCodecTest::Group() const {
  return *std::max_element(desc_.level_strides.begin(), desc_.level_strides.end());
}

}  // namespace codec::testing
