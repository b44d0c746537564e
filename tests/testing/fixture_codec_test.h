#ifndef TESTS_TESTING_FIXTURE_CODEC_TEST_H_
#define TESTS_TESTING_FIXTURE_CODEC_TEST_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "backends/core/audio.h"
#include "backends/core/codec_backend.h"
#include "tests/testing/fixture.h"

namespace codec::testing {

// A test parameterised by fixture name, with the fixture's codec loaded at
// the reference thread count and a real recording (tests/fixtures/audio)
// at the codec's rate and channels.
class FixtureCodecTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { UseReferenceThreadCount(); }
  void SetUp() override;

  // The largest level stride: multi-level codes come in groups of it.
  int64_t Group() const;

  Fixture fixture_;
  std::shared_ptr<CodecBackend> backend_;
  CodecDescription desc_;
  Audio recording_;
};

}  // namespace codec::testing

#endif  // TESTS_TESTING_FIXTURE_CODEC_TEST_H_
