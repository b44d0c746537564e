#include "backends/io/wav.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

namespace codec::io {
namespace {

// 16 kHz mono 16-bit PCM, 11 s.
constexpr char kJfk[] = "tests/fixtures/audio/jfk.wav";

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

// Stereo test signal, planar: a sine on channel 0, a cosine on channel 1.
Audio TestSignal(int sample_rate, int64_t frames) {
  Audio audio{sample_rate, 2, std::vector<float>(2 * frames)};
  for (int64_t t = 0; t < frames; ++t) {
    const double phase = 2 * M_PI * 440.0 * t / sample_rate;
    audio.samples[t] = static_cast<float>(0.8 * std::sin(phase));
    audio.samples[frames + t] = static_cast<float>(-0.6 * std::cos(phase));
  }
  return audio;
}

// Writes planar `audio` through libsndfile as WAV in `subformat`.
void WriteWithLibsndfile(const std::string& path, const Audio& audio, int subformat) {
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = audio.channels;
  info.format = SF_FORMAT_WAV | subformat;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(file, nullptr) << sf_strerror(nullptr);
  const int64_t frames = audio.num_frames();
  std::vector<float> interleaved(audio.samples.size());
  for (int64_t t = 0; t < frames; ++t) {
    for (int c = 0; c < audio.channels; ++c) {
      interleaved[t * audio.channels + c] = audio.samples[c * frames + t];
    }
  }
  EXPECT_EQ(sf_writef_float(file, interleaved.data(), frames), frames);
  EXPECT_EQ(sf_close(file), 0);
}

TEST(WavTest, Float32RoundTripsExactly) {
  Audio audio = TestSignal(44100, 1000);
  audio.samples[3] = 1.5f;  // Float WAV keeps values outside [-1, 1].
  audio.samples[1500] = -1e-7f;
  const std::string path = TempPath("float.wav");
  ASSERT_TRUE(WriteWavFloat32(path, audio).ok());
  absl::StatusOr<Audio> read = ReadWav(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->sample_rate, 44100);
  EXPECT_EQ(read->channels, 2);
  EXPECT_EQ(read->samples, audio.samples);
}

TEST(WavTest, ReadsJfk) {
  absl::StatusOr<Audio> audio = ReadWav(kJfk);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 16000);
  EXPECT_EQ(audio->channels, 1);
  EXPECT_EQ(audio->num_frames(), 176000);
  // int16 samples -131 and -40 (checked with Python's wave module) over 32768.
  EXPECT_EQ(audio->samples[50000], -131.0f / 32768);
  EXPECT_EQ(audio->samples[100000], -40.0f / 32768);
}

struct PcmCase {
  int subformat;
  int bits;
};

class PcmTest : public ::testing::TestWithParam<PcmCase> {};

TEST_P(PcmTest, ReadsBackWithinQuantisationError) {
  const Audio audio = TestSignal(22050, 2000);
  const std::string path = TempPath("pcm" + std::to_string(GetParam().bits) + ".wav");
  WriteWithLibsndfile(path, audio, GetParam().subformat);
  absl::StatusOr<Audio> read = ReadWav(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->sample_rate, 22050);
  EXPECT_EQ(read->channels, 2);
  ASSERT_EQ(read->samples.size(), audio.samples.size());
  // Half a step of rounding plus libsndfile's 2^(bits-1) - 1 vs 2^(bits-1)
  // scaling, bounded by float precision for 32 bits.
  const double tolerance = std::max(2.0 / std::ldexp(1.0, GetParam().bits - 1), 1e-7);
  double max_error = 0;
  for (size_t i = 0; i < audio.samples.size(); ++i) {
    max_error = std::max(max_error, std::abs(double{read->samples[i]} - audio.samples[i]));
  }
  EXPECT_LE(max_error, tolerance);
  EXPECT_GT(max_error, 0);  // Really quantised, not a float file.
}

INSTANTIATE_TEST_SUITE_P(Formats, PcmTest,
                         ::testing::Values(PcmCase{SF_FORMAT_PCM_16, 16},
                                           PcmCase{SF_FORMAT_PCM_24, 24},
                                           PcmCase{SF_FORMAT_PCM_32, 32}),
                         [](const auto& info) { return "Pcm" + std::to_string(info.param.bits); });

TEST(WavTest, TextFileIsInvalidArgument) {
  const std::string path = TempPath("notes.wav");
  std::ofstream(path) << "these are not samples\n";
  const absl::Status status = ReadWav(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
}

TEST(WavTest, EmptyFileIsInvalidArgument) {
  const std::string path = TempPath("empty.wav");
  WriteWithLibsndfile(path, Audio{16000, 1, {}}, SF_FORMAT_PCM_16);
  EXPECT_EQ(ReadWav(path).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WavTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadWav(TempPath("absent.wav")).status().code(), absl::StatusCode::kNotFound);
}

TEST(WavTest, WriteErrorsNameThePath) {
  const std::string path = TempPath("no_such_dir/out.wav");
  const absl::Status status = WriteWavFloat32(path, TestSignal(16000, 10));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find(path), std::string::npos) << status;
  EXPECT_EQ(WriteWavFloat32(TempPath("bad.wav"), Audio{16000, 0, {}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteWavFloat32(TempPath("bad.wav"), Audio{16000, 2, {0.f, 0.f, 0.f}}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace codec::io
