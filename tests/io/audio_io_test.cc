// numpy arrays, WAV files and sample-rate / channel conversion.

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "backends/io/audio_convert.h"
#include "backends/io/npy.h"
#include "backends/io/npz.h"
#include "backends/io/wav.h"
#include "backends/io/zip_reader.h"

namespace codec::io {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

Audio Sine(int rate, int64_t frames, double hz, float amplitude) {
  Audio audio{rate, 1, std::vector<float>(frames)};
  for (int64_t t = 0; t < frames; ++t) {
    audio.samples[t] = amplitude * static_cast<float>(std::sin(2 * M_PI * hz * t / rate));
  }
  return audio;
}

TEST(NpyTest, RoundTripsScalarsAndMatrices) {
  for (const NpyArray& array :
       {NpyFromInt64({}, {42}), NpyFromInt64({2, 3}, {1, -2, 3, -4, 5, 1LL << 40}),
        NpyFromFloat32({3, 1}, {0.5f, -1.25f, 3e-8f}), NpyFromFloat32({0, 4}, {})}) {
    const std::string bytes = SerializeNpy(array);
    EXPECT_EQ((bytes.find('\n') + 1) % 64, 0u) << "numpy pads headers to 64 bytes";
    absl::StatusOr<NpyArray> back = ParseNpy(bytes, "a");
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->dtype, array.dtype);
    EXPECT_EQ(back->shape, array.shape);
    EXPECT_EQ(back->data, array.data);
  }
  EXPECT_EQ(*AsInt64(NpyFromInt64({}, {42})), std::vector<int64_t>{42});
}

TEST(NpyTest, RejectsFortranOrderAndBadSizes) {
  std::string bytes = SerializeNpy(NpyFromFloat32({2, 2}, {1, 2, 3, 4}));
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_EQ(ParseNpy(fortran, "f").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseNpy(bytes.substr(0, bytes.size() - 1), "t").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseNpy("not numpy", "n").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(AsInt64(NpyFromFloat32({1}, {1})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NpzTest, ReadsReferenceFile) {
  absl::StatusOr<NpzFile> npz = ReadNpz("tests/fixtures/encodec24_tiny_bw6/expected.npz");
  ASSERT_TRUE(npz.ok()) << npz.status();
  EXPECT_EQ(npz->at("codes").dtype, "<i8");
  EXPECT_EQ(npz->at("codes").shape, (std::vector<int64_t>{8, 195}));
  EXPECT_EQ(npz->at("decoded").shape, (std::vector<int64_t>{1, 62400}));
  absl::StatusOr<std::vector<int64_t>> codes = AsInt64(npz->at("codes"));
  ASSERT_TRUE(codes.ok());
  for (int64_t code : *codes) ASSERT_TRUE(code >= 0 && code < 1024);
  // Diverse codes, as the fixture README promises.
  EXPECT_GT(std::set<int64_t>(codes->begin(), codes->end()).size(), 100u);
}

TEST(NpzTest, WriteThenReadRoundTrips) {
  const NpzFile arrays = {{"codes", NpyFromInt64({2, 2}, {1, 2, 3, 4})},
                          {"num_samples", NpyFromInt64({}, {640})},
                          {"scales", NpyFromFloat32({1}, {0.25f})}};
  const std::string path = TempPath("round.npz");
  ASSERT_TRUE(WriteNpz(path, arrays).ok());
  absl::StatusOr<NpzFile> back = ReadNpz(path);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 3u);
  for (const auto& [name, array] : arrays) {
    EXPECT_EQ(back->at(name).data, array.data) << name;
    EXPECT_EQ(back->at(name).shape, array.shape) << name;
  }
}

TEST(NpzTest, CorruptFilesAreDataLoss) {
  absl::StatusOr<std::string> bytes = ReadFileBytes("tests/fixtures/encodec24_tiny_bw6/expected.npz");
  ASSERT_TRUE(bytes.ok());
  const std::string half = TempPath("half.npz");
  std::ofstream(half, std::ios::binary) << bytes->substr(0, bytes->size() / 2);
  EXPECT_EQ(ReadNpz(half).status().code(), absl::StatusCode::kDataLoss);
  std::string flipped = *bytes;
  flipped[200] ^= 0x40;  // Inside the first array's data: the CRC catches it.
  const std::string flipped_path = TempPath("flipped.npz");
  std::ofstream(flipped_path, std::ios::binary) << flipped;
  EXPECT_EQ(ReadNpz(flipped_path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadNpz(TempPath("missing.npz")).status().code(), absl::StatusCode::kNotFound);
}

TEST(WavTest, ReadsRealRecording) {
  absl::StatusOr<Audio> audio = ReadWav("tests/fixtures/audio/jfk.wav");
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 16000);
  EXPECT_EQ(audio->channels, 1);
  EXPECT_EQ(audio->num_frames(), 176000);
  const float peak = std::abs(*std::max_element(
      audio->samples.begin(), audio->samples.end(),
      [](float a, float b) { return std::abs(a) < std::abs(b); }));
  EXPECT_GT(peak, 0.1f);
  EXPECT_LE(peak, 1.0f);
}

TEST(WavTest, FloatWavRoundTripsExactly) {
  Audio audio{48000, 2, {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f}};
  const std::string path = TempPath("float.wav");
  ASSERT_TRUE(WriteWavFloat32(path, audio).ok());
  absl::StatusOr<Audio> back = ReadWav(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sample_rate, 48000);
  EXPECT_EQ(back->channels, 2);
  EXPECT_EQ(back->samples, audio.samples);
}

TEST(WavTest, ReadsIntegerPcmWithinQuantisation) {
  const Audio sine = Sine(24000, 2400, 440, 0.5f);
  for (const auto& [format, step] : {std::pair{SF_FORMAT_PCM_16, 1.0 / 32768},
                                     std::pair{SF_FORMAT_PCM_24, 1.0 / 8388608}}) {
    const std::string path = TempPath("pcm.wav");
    SF_INFO info{};
    info.samplerate = 24000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | format;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    ASSERT_NE(file, nullptr);
    sf_writef_float(file, sine.samples.data(), sine.num_frames());
    sf_close(file);
    absl::StatusOr<Audio> back = ReadWav(path);
    ASSERT_TRUE(back.ok()) << back.status();
    for (size_t i = 0; i < sine.samples.size(); ++i) {
      ASSERT_NEAR(back->samples[i], sine.samples[i], step) << i;
    }
  }
}

TEST(WavTest, BadFilesAreClearErrors) {
  const std::string text = TempPath("text.wav");
  std::ofstream(text) << "this is not audio";
  const absl::Status status = ReadWav(text).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(text), std::string::npos);
  EXPECT_EQ(ReadWav(TempPath("absent.wav")).status().code(), absl::StatusCode::kNotFound);
}

TEST(AudioConvertTest, ResamplingKeepsFrequencyAndAmplitude) {
  const Audio in = Sine(48000, 48000, 1000, 0.5f);
  std::string report;
  absl::StatusOr<Audio> out = ConvertAudio(in, 24000, 1, &report);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->num_frames(), 24000);
  EXPECT_EQ(report, "resampled 48000 Hz -> 24000 Hz");
  // Away from the edges the output is the same sine at the new rate.
  const Audio expected = Sine(24000, 24000, 1000, 0.5f);
  double max_error = 0;
  for (int64_t t = 1000; t < 23000; ++t) {
    max_error = std::max(max_error, std::abs(double{out->samples[t]} - expected.samples[t]));
  }
  EXPECT_LT(max_error, 1e-3);
}

TEST(AudioConvertTest, MixesChannels) {
  std::string report;
  const Audio stereo{16000, 2, {1.0f, 0.5f, -1.0f, 0.0f}};  // L = {1, .5}, R = {-1, 0}.
  absl::StatusOr<Audio> mono = ConvertAudio(stereo, 16000, 1, &report);
  ASSERT_TRUE(mono.ok());
  EXPECT_EQ(mono->samples, (std::vector<float>{0.0f, 0.25f}));
  EXPECT_EQ(report, "mixed 2 -> 1 channel(s)");
  absl::StatusOr<Audio> back = ConvertAudio(*mono, 16000, 2, &report);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->samples, (std::vector<float>{0.0f, 0.25f, 0.0f, 0.25f}));
  EXPECT_EQ(ConvertAudio(stereo, 16000, 3, &report).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(ConvertAudio(stereo, 16000, 2, &report).ok());
  EXPECT_EQ(report, "");
}

}  // namespace
}  // namespace codec::io
