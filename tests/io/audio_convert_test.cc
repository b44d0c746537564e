#include "backends/io/audio_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace codec::io {
namespace {

std::vector<float> Sine(double frequency, double amplitude, int sample_rate, int64_t frames) {
  std::vector<float> samples(frames);
  for (int64_t t = 0; t < frames; ++t) {
    samples[t] = static_cast<float>(amplitude * std::sin(2 * M_PI * frequency * t / sample_rate));
  }
  return samples;
}

TEST(AudioConvertTest, DownsamplingKeepsASine) {
  const Audio in{48000, 1, Sine(1000, 0.5, 48000, 48000)};
  std::string report;
  absl::StatusOr<Audio> out = ConvertAudio(in, 24000, 1, &report);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(report, "resampled 48000 Hz -> 24000 Hz");
  EXPECT_EQ(out->sample_rate, 24000);
  EXPECT_EQ(out->channels, 1);
  ASSERT_EQ(out->num_frames(), 24000);

  // Away from the edges: the same 1 kHz sine, same amplitude, no delay.
  const std::vector<float> expected = Sine(1000, 0.5, 24000, 24000);
  double dot = 0, out_energy = 0, expected_energy = 0, peak = 0;
  for (int64_t t = 1000; t < 23000; ++t) {
    dot += double{out->samples[t]} * expected[t];
    out_energy += double{out->samples[t]} * out->samples[t];
    expected_energy += double{expected[t]} * expected[t];
    peak = std::max(peak, std::abs(double{out->samples[t]}));
  }
  EXPECT_GT(dot / std::sqrt(out_energy * expected_energy), 0.99999);
  EXPECT_NEAR(peak, 0.5, 0.005);
  EXPECT_NEAR(std::sqrt(out_energy / expected_energy), 1.0, 0.001);
}

TEST(AudioConvertTest, OutputLengthIsRoundedRatio) {
  struct Case {
    int from, to;
    int64_t frames, expected;
  };
  for (const Case& c :
       {Case{44100, 24000, 1001, 545}, Case{16000, 24000, 3, 5}, Case{24000, 44100, 100, 184},
        Case{8000, 48000, 7, 42}, Case{48000, 16000, 1, 0}}) {
    std::string report;
    absl::StatusOr<Audio> out =
        ConvertAudio(Audio{c.from, 1, std::vector<float>(c.frames, 0.1f)}, c.to, 1, &report);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->num_frames(), c.expected) << c.from << " -> " << c.to << ", " << c.frames;
  }
}

TEST(AudioConvertTest, StereoToMonoAverages) {
  const Audio in{16000, 2, {1.0f, 0.5f, -0.25f, 0.0f, -0.5f, 0.75f}};
  std::string report;
  absl::StatusOr<Audio> out = ConvertAudio(in, 16000, 1, &report);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(report, "mixed 2 -> 1 channel(s)");
  EXPECT_EQ(out->channels, 1);
  EXPECT_EQ(out->samples, (std::vector<float>{0.5f, 0.0f, 0.25f}));
}

TEST(AudioConvertTest, MonoToStereoDuplicates) {
  const Audio in{16000, 1, {0.1f, -0.2f, 0.3f}};
  std::string report;
  absl::StatusOr<Audio> out = ConvertAudio(in, 16000, 2, &report);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(report, "mixed 1 -> 2 channel(s)");
  EXPECT_EQ(out->channels, 2);
  EXPECT_EQ(out->samples, (std::vector<float>{0.1f, -0.2f, 0.3f, 0.1f, -0.2f, 0.3f}));
}

TEST(AudioConvertTest, ResamplesAndMixesTogether) {
  std::vector<float> stereo = Sine(440, 0.5, 44100, 4410);
  stereo.insert(stereo.end(), stereo.begin(), stereo.end());
  std::string report;
  absl::StatusOr<Audio> mono = ConvertAudio(Audio{44100, 2, stereo}, 24000, 1, &report);
  ASSERT_TRUE(mono.ok()) << mono.status();
  EXPECT_EQ(report, "resampled 44100 Hz -> 24000 Hz, mixed 2 -> 1 channel(s)");
  EXPECT_EQ(mono->channels, 1);
  EXPECT_EQ(mono->num_frames(), 2400);

  absl::StatusOr<Audio> back = ConvertAudio(*mono, 48000, 2, &report);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(report, "resampled 24000 Hz -> 48000 Hz, mixed 1 -> 2 channel(s)");
  ASSERT_EQ(back->num_frames(), 4800);
  EXPECT_EQ(std::vector<float>(back->samples.begin(), back->samples.begin() + 4800),
            std::vector<float>(back->samples.begin() + 4800, back->samples.end()));
}

TEST(AudioConvertTest, NoChangeIsACopyWithEmptyReport) {
  const Audio in{24000, 2, {0.1f, 0.2f, 0.3f, 0.4f}};
  std::string report = "stale";
  absl::StatusOr<Audio> out = ConvertAudio(in, 24000, 2, &report);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(report, "");
  EXPECT_EQ(out->sample_rate, 24000);
  EXPECT_EQ(out->channels, 2);
  EXPECT_EQ(out->samples, in.samples);
}

TEST(AudioConvertTest, RejectsInvalidConversions) {
  std::string report;
  const absl::Status two_to_three =
      ConvertAudio(Audio{16000, 2, {0, 0, 0, 0}}, 16000, 3, &report).status();
  EXPECT_EQ(two_to_three.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(two_to_three.message().find("2 channels into 3"), std::string::npos) << two_to_three;
  EXPECT_EQ(ConvertAudio(Audio{16000, 2, {0, 0, 0}}, 16000, 1, &report).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConvertAudio(Audio{0, 1, {0}}, 16000, 1, &report).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConvertAudio(Audio{16000, 1, {0}}, 0, 1, &report).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConvertAudio(Audio{16000, 1, {0}}, 16000, 0, &report).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace codec::io
