// Streaming sessions against the offline path, for every family on every
// fixture: any chunking of the input gives the offline result (codes >=
// 99.9% identical, audio within 1e-4, the same frame and sample counts),
// output leaves as soon as it is final, and the latency each description
// states is the one the streams show.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>

#include "tests/testing/fixture.h"
#include "tests/testing/fixture_codec_test.h"

namespace codec {
namespace {

constexpr int kSeed = 20261125;
// The contract. Every fixture streams 100 % identical codes under both the
// reference BLAS and OpenBLAS: layers whose kernel libtorch picks by input
// size or whose BLAS rounds by row count take one frame's products at a time
// (nn::RowByRowProducts), offline and in streams alike.
constexpr double kCodesAgreement = 0.999;
// Frame groups from the stream's start whose output may wait longer than the
// steady state: reflect padding at the start reads ahead.
constexpr int64_t kSteadyFrom = 8;

void AppendAudio(Audio& to, const Audio& more) { to = ConcatAudio({to, more}); }
void AppendCodes(Codes& to, const Codes& more) { to = ConcatCodes({to, more}); }

// Chunk sizes summing to `total`: each `unit` times a random count in
// [1, max_units], seeded.
std::vector<int64_t> RandomChunks(int64_t total, int64_t unit, int max_units, int seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> units(1, max_units);
  std::vector<int64_t> sizes;
  for (int64_t done = 0; done < total;) {
    sizes.push_back(std::min(total - done, unit * units(rng)));
    done += sizes.back();
  }
  return sizes;
}

std::vector<int64_t> EvenChunks(int64_t total, int64_t unit) {
  std::vector<int64_t> sizes;
  for (int64_t done = 0; done < total; done += unit) sizes.push_back(std::min(unit, total - done));
  return sizes;
}

class StreamingTest : public testing::FixtureCodecTest {
 protected:
  void SetUp() override {
    testing::FixtureCodecTest::SetUp();
    if (HasFatalFailure()) return;
    encode_options_ = fixture_.ReferenceEncodeOptions();
    decode_options_.noise = NoiseMode::kOff;
    // Long enough that the offline path runs every conv with the kernel
    // libtorch picks for long inputs (as streams do), and short enough that
    // DAC runs it whole.
    recording_ = SliceFrames(recording_, 0, 8 * desc_.sample_rate);
  }

  Codes StreamEncode(const Audio& audio, const std::vector<int64_t>& sizes) {
    absl::StatusOr<std::unique_ptr<EncodeStream>> stream = backend_->OpenEncodeStream(encode_options_);
    EXPECT_TRUE(stream.ok()) << stream.status();
    Codes all;
    int64_t first = 0;
    for (int64_t size : sizes) {
      absl::StatusOr<Codes> codes = (*stream)->Push(SliceFrames(audio, first, first + size));
      EXPECT_TRUE(codes.ok()) << codes.status();
      if (!codes.ok()) return all;
      AppendCodes(all, *codes);
      first += size;
    }
    absl::StatusOr<Codes> rest = (*stream)->Finish();
    EXPECT_TRUE(rest.ok()) << rest.status();
    if (rest.ok()) AppendCodes(all, *rest);
    return all;
  }

  Audio StreamDecode(const Codes& codes, const std::vector<int64_t>& frame_sizes,
                     const DecodeOptions& options) {
    absl::StatusOr<std::unique_ptr<DecodeStream>> stream =
        backend_->OpenDecodeStream(options, codes.num_samples);
    EXPECT_TRUE(stream.ok()) << stream.status();
    Audio all;
    int64_t first = 0;
    for (int64_t size : frame_sizes) {
      absl::StatusOr<Audio> audio = (*stream)->Push(SliceCodes(codes, first, first + size));
      EXPECT_TRUE(audio.ok()) << audio.status();
      if (!audio.ok()) return all;
      AppendAudio(all, *audio);
      first += size;
    }
    absl::StatusOr<Audio> rest = (*stream)->Finish();
    EXPECT_TRUE(rest.ok()) << rest.status();
    if (rest.ok()) AppendAudio(all, *rest);
    return all;
  }

  void ExpectSameCodes(const Codes& streamed, const Codes& offline, const std::string& how) {
    const testing::CodesAgreement agreement = testing::CompareCodes(streamed, offline);
    ASSERT_TRUE(agreement.same_shape) << how;
    EXPECT_GE(agreement.identical_fraction, kCodesAgreement) << how;
    EXPECT_EQ(streamed.num_samples, offline.num_samples) << how;
    ASSERT_EQ(streamed.scales.size(), offline.scales.size()) << how;
    for (size_t i = 0; i < offline.scales.size(); ++i) {
      EXPECT_NEAR(streamed.scales[i], offline.scales[i], 1e-6 * offline.scales[i]) << how;
    }
    std::cout << GetParam() << " encode, " << how << ": " << 100 * agreement.identical_fraction
              << "% of " << offline.Flatten().size() << " codes identical\n";
  }

  void ExpectSameAudio(const Audio& streamed, const Audio& offline, const std::string& how) {
    ASSERT_EQ(streamed.num_frames(), offline.num_frames()) << how;
    const double error = testing::MaxAbsDiff(streamed, offline);
    EXPECT_LE(error, 1e-4) << how;
    std::cout << GetParam() << " decode, " << how << ": " << offline.num_frames()
              << " samples, max abs error " << error << "\n";
  }

  // The samples a decode of `codes` sends: trimmed to num_samples if set.
  int64_t Length(const Codes& codes) const {
    return codes.num_samples > 0 ? codes.num_samples
                                 : codes.levels.back().frames * desc_.hop_length;
  }

  // The finest frames a decode may end after a multiple of: whole frame
  // groups, and whole attention windows where the decoder has them (SNAC).
  int64_t EndMultiple() const {
    std::ifstream file(fixture_.dir + "/config.json");
    const nlohmann::json config = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json window =
        config.is_object() ? config.value("attn_window_size", nlohmann::json()) : nlohmann::json();
    return std::lcm<int64_t>(Group(), window.is_number_integer() ? window.get<int64_t>() : 1);
  }

  EncodeOptions encode_options_;
  DecodeOptions decode_options_;
};

TEST_P(StreamingTest, AnyChunkingEncodesAsOffline) {
  const Audio& input = recording_;
  const int64_t total = input.num_frames();
  absl::StatusOr<Codes> offline = backend_->Encode(input, encode_options_);
  ASSERT_TRUE(offline.ok()) << offline.status();
  ExpectSameCodes(StreamEncode(input, {total}), *offline, "whole input");
  ExpectSameCodes(StreamEncode(input, EvenChunks(total, desc_.hop_length)), *offline, "one frame");
  ExpectSameCodes(StreamEncode(input, RandomChunks(total, 1, 3 * desc_.hop_length, kSeed)), *offline,
                  "random sizes");
  // One sample at a time through the stream's start, where padding is set up.
  std::vector<int64_t> single(3 * desc_.hop_length, 1);
  single.push_back(total - 3 * desc_.hop_length);
  ExpectSameCodes(StreamEncode(input, single), *offline, "one sample");
}

TEST_P(StreamingTest, StreamEndingMidFrameEncodesAsOffline) {
  const int64_t length = recording_.num_frames() - desc_.hop_length / 2 - 1;
  const Audio input = SliceFrames(recording_, 0, length);
  absl::StatusOr<Codes> offline = backend_->Encode(input, encode_options_);
  ASSERT_TRUE(offline.ok()) << offline.status();
  ExpectSameCodes(StreamEncode(input, RandomChunks(length, 7, 100, kSeed + 1)), *offline,
                  "ends mid-frame");
}

TEST_P(StreamingTest, AnyChunkingDecodesAsOffline) {
  const Codes& codes = fixture_.expected_codes;
  absl::StatusOr<Audio> offline = backend_->Decode(codes, decode_options_);
  ASSERT_TRUE(offline.ok()) << offline.status();
  const int64_t frames = codes.levels.back().frames;
  ExpectSameAudio(StreamDecode(codes, {frames}, decode_options_), *offline, "whole");
  ExpectSameAudio(StreamDecode(codes, EvenChunks(frames, Group()), decode_options_), *offline,
                  "one frame group");
  ExpectSameAudio(StreamDecode(codes, RandomChunks(frames, Group(), 6, kSeed), decode_options_),
                  *offline, "random groups");
  EXPECT_LE(testing::MaxAbsDiff(*offline, fixture_.expected_decode), 1e-4);
}

// The codes of frame j leave once encode_lookahead_samples past its end
// have arrived, and not earlier for the slowest frame (measured to within
// the push granularity); likewise a frame's audio and
// decode_lookahead_frames (measured exactly, a group of frames at a time).
TEST_P(StreamingTest, OutputLeavesAsSoonAsTheStatedLatencyAllows) {
  const Audio& input = fixture_.input;
  const int64_t hop = desc_.hop_length;
  constexpr int64_t kPush = 8;  // Samples per push: the measurement's resolution.
  absl::StatusOr<std::unique_ptr<EncodeStream>> encoder = backend_->OpenEncodeStream(encode_options_);
  ASSERT_TRUE(encoder.ok());
  std::vector<int64_t> samples_when_final;  // Per finest frame.
  for (int64_t pushed = 0; pushed < input.num_frames(); pushed += kPush) {
    const int64_t last = std::min(input.num_frames(), pushed + kPush);
    absl::StatusOr<Codes> codes = (*encoder)->Push(SliceFrames(input, pushed, last));
    ASSERT_TRUE(codes.ok()) << codes.status();
    samples_when_final.resize(samples_when_final.size() + codes->levels.back().frames, last);
  }
  // Frames whose codes left before the end: the steady state, past the start.
  ASSERT_GT(samples_when_final.size(), kSteadyFrom * Group()) << "no frame left before the end";
  int64_t encode_lookahead = 0;
  for (size_t j = kSteadyFrom * Group(); j < samples_when_final.size(); ++j) {
    encode_lookahead = std::max<int64_t>(encode_lookahead, samples_when_final[j] - (j + 1) * hop);
  }
  if (desc_.segment_length > 0) {
    // Segments: the first frame of each waits for the whole segment.
    encode_lookahead = samples_when_final[0] - hop;
  }
  EXPECT_LE(desc_.encode_lookahead_samples, encode_lookahead);
  EXPECT_GT(desc_.encode_lookahead_samples, encode_lookahead - kPush);

  const Codes& codes = fixture_.expected_codes;
  absl::StatusOr<std::unique_ptr<DecodeStream>> decoder =
      backend_->OpenDecodeStream(decode_options_, codes.num_samples);
  ASSERT_TRUE(decoder.ok());
  std::vector<int64_t> frames_when_final;  // Per output sample.
  for (int64_t first = 0; first < codes.levels.back().frames; first += Group()) {
    absl::StatusOr<Audio> audio = (*decoder)->Push(SliceCodes(codes, first, first + Group()));
    ASSERT_TRUE(audio.ok()) << audio.status();
    frames_when_final.resize(frames_when_final.size() + audio->num_frames(), first + Group());
  }
  int64_t decode_lookahead = 0;
  for (int64_t j = kSteadyFrom * Group(); (j + 1) * hop <= static_cast<int64_t>(frames_when_final.size()); ++j) {
    decode_lookahead = std::max(decode_lookahead, frames_when_final[(j + 1) * hop - 1] - 1 - j);
  }
  EXPECT_EQ(decode_lookahead, desc_.decode_lookahead_frames);
  std::cout << GetParam() << ": lookahead " << desc_.encode_lookahead_samples << " samples ("
            << 1000.0 * desc_.encode_lookahead_samples / desc_.sample_rate << " ms) to encode, "
            << desc_.decode_lookahead_frames << " frames to decode\n";
}

TEST_P(StreamingTest, SessionsOnOneBackendAreIndependent) {
  const Audio& input = recording_;
  absl::StatusOr<Codes> offline = backend_->Encode(input, encode_options_);
  ASSERT_TRUE(offline.ok());
  auto a = backend_->OpenEncodeStream(encode_options_);
  auto b = backend_->OpenEncodeStream(encode_options_);
  ASSERT_TRUE(a.ok() && b.ok());
  Codes from_a, from_b;
  const int64_t total = input.num_frames();
  const int64_t step = 3 * desc_.hop_length + 17;
  for (int64_t first = 0; first < total; first += step) {
    const Audio chunk = SliceFrames(input, first, std::min(total, first + step));
    AppendCodes(from_a, *(*a)->Push(chunk));
    AppendCodes(from_b, *(*b)->Push(chunk));
  }
  AppendCodes(from_b, *(*b)->Finish());
  AppendCodes(from_a, *(*a)->Finish());
  ExpectSameCodes(from_a, *offline, "interleaved session a");
  ExpectSameCodes(from_b, *offline, "interleaved session b");
}

// SNAC's noise: seeded streams repeat for the same seed and chunking,
// random ones do not, and noise off is the offline decode (tested above).
TEST_P(StreamingTest, SeededNoiseRepeatsAndRandomNoiseDoesNot) {
  if (!desc_.has_noise) GTEST_SKIP() << "no decoder noise";
  const Codes& codes = fixture_.expected_codes;
  const std::vector<int64_t> chunks =
      RandomChunks(codes.levels.back().frames, Group(), 3, kSeed + 2);
  DecodeOptions seeded;
  seeded.noise = NoiseMode::kSeeded;
  seeded.seed = 7;
  const Audio first = StreamDecode(codes, chunks, seeded);
  EXPECT_EQ(testing::MaxAbsDiff(first, StreamDecode(codes, chunks, seeded)), 0.0);
  DecodeOptions random;
  EXPECT_GT(testing::MaxAbsDiff(StreamDecode(codes, chunks, random),
                                StreamDecode(codes, chunks, random)),
            0.0);
  EXPECT_GT(testing::MaxAbsDiff(first, StreamDecode(codes, chunks, decode_options_)), 0.0);
}

// A lookahead bound at the model's full lookahead (or past it) is the exact
// stream, sample for sample.
TEST_P(StreamingTest, FullLookaheadBoundIsTheExactStream) {
  const Codes& codes = fixture_.expected_codes;
  const std::vector<int64_t> chunks = EvenChunks(codes.levels.back().frames, Group());
  const Audio exact = StreamDecode(codes, chunks, decode_options_);
  for (int64_t bound : {desc_.decode_lookahead_frames, desc_.decode_lookahead_frames + 3}) {
    DecodeOptions options = decode_options_;
    options.lookahead_frames = bound;
    const Audio bounded = StreamDecode(codes, chunks, options);
    ASSERT_EQ(bounded.samples.size(), exact.samples.size()) << "bound " << bound;
    EXPECT_TRUE(bounded.samples == exact.samples) << "bound " << bound;
  }
}

// Below the full lookahead, a frame's audio leaves once `bound` frames past
// it have arrived, equal to the offline decode of the codes so far (the
// missing future treated as the end of the input), and later output only
// appends: the stream ends as long as the exact one, its last part the
// offline decode's.
TEST_P(StreamingTest, SmallerLookaheadBoundSendsOfflinePrefixAudioEarly) {
  const Codes& codes = fixture_.expected_codes;
  const int64_t lookahead = desc_.decode_lookahead_frames;
  if (desc_.segment_length > 0) {
    DecodeOptions options = decode_options_;
    options.lookahead_frames = lookahead - 1;
    EXPECT_TRUE(testing::IsInvalidArgument(
        backend_->OpenDecodeStream(options, codes.num_samples).status(), "segments"));
    return;
  }
  if (lookahead == 0) GTEST_SKIP() << "the exact stream waits for no frame";
  const int64_t frames = codes.levels.back().frames;
  const int64_t hop = desc_.hop_length;
  const int64_t multiple = EndMultiple();
  absl::StatusOr<Audio> offline = backend_->Decode(codes, decode_options_);
  ASSERT_TRUE(offline.ok()) << offline.status();
  for (int64_t bound : {int64_t{0}, lookahead / 2}) {
    DecodeOptions options = decode_options_;
    options.lookahead_frames = bound;
    auto stream = backend_->OpenDecodeStream(options, codes.num_samples);
    ASSERT_TRUE(stream.ok()) << stream.status();
    Audio sent;
    double worst = 0;
    // The prefixes checked against their offline decode: the first few, where
    // the bound matters most and each check is cheap.
    for (int64_t pushed = 0; pushed < frames && pushed < 12 * Group(); pushed += Group()) {
      absl::StatusOr<Audio> audio = (*stream)->Push(SliceCodes(codes, pushed, pushed + Group()));
      ASSERT_TRUE(audio.ok()) << audio.status();
      const int64_t before = sent.num_frames();
      AppendAudio(sent, *audio);
      const int64_t have = pushed + Group();
      if (have % multiple != 0) continue;
      Codes prefix = SliceCodes(codes, 0, have);
      prefix.num_samples = 0;
      absl::StatusOr<Audio> prefix_audio = backend_->Decode(prefix, decode_options_);
      ASSERT_TRUE(prefix_audio.ok()) << prefix_audio.status();
      // As far as the prefix's decode reaches (DAC 16 kHz's falls short of
      // its frames) and the stream's length.
      const int64_t due = std::min(
          {std::max<int64_t>(0, have - bound) * hop, prefix_audio->num_frames(), Length(codes)});
      EXPECT_GE(sent.num_frames(), due) << "bound " << bound << " after " << have << " frames";
      const int64_t last = std::min(sent.num_frames(), prefix_audio->num_frames());
      if (last > before) {
        worst = std::max(worst, testing::MaxAbsDiff(SliceFrames(sent, before, last),
                                                    SliceFrames(*prefix_audio, before, last)));
      }
    }
    EXPECT_LE(worst, 1e-4) << "bound " << bound;
    const int64_t early_end = sent.num_frames();
    const int64_t start = std::min(frames, 12 * Group());
    for (int64_t first = start; first < frames; first += Group()) {
      absl::StatusOr<Audio> audio = (*stream)->Push(SliceCodes(codes, first, first + Group()));
      ASSERT_TRUE(audio.ok()) << audio.status();
      AppendAudio(sent, *audio);
    }
    absl::StatusOr<Audio> end = (*stream)->Finish();
    ASSERT_TRUE(end.ok()) << end.status();
    const int64_t tail_from = sent.num_frames();
    AppendAudio(sent, *end);
    ASSERT_EQ(sent.num_frames(), offline->num_frames()) << "bound " << bound;
    EXPECT_LE(testing::MaxAbsDiff(SliceFrames(sent, tail_from, sent.num_frames()),
                                  SliceFrames(*offline, tail_from, offline->num_frames())),
              1e-4);
    EXPECT_GT(early_end, 0) << "bound " << bound;
    std::cout << GetParam() << ": lookahead bound " << bound << " of " << lookahead
              << " frames: audio equal to each prefix's offline decode within " << worst << "\n";
  }
}

// The first push's audio: the exact stream holds it back for the full
// lookahead, a bound of 0 sends the first frames' audio at once.
TEST_P(StreamingTest, ZeroLookaheadBoundGivesFirstAudioEarlier) {
  if (desc_.segment_length > 0 || desc_.decode_lookahead_frames == 0) {
    GTEST_SKIP() << "no early audio for this model";
  }
  const Codes& codes = fixture_.expected_codes;
  const int64_t multiple = EndMultiple();
  const Codes first = SliceCodes(codes, 0, multiple);
  auto FirstPushSamples = [&](std::optional<int64_t> bound) -> int64_t {
    DecodeOptions options = decode_options_;
    options.lookahead_frames = bound;
    auto stream = backend_->OpenDecodeStream(options, codes.num_samples);
    EXPECT_TRUE(stream.ok()) << stream.status();
    if (!stream.ok()) return -1;
    absl::StatusOr<Audio> audio = (*stream)->Push(first);
    EXPECT_TRUE(audio.ok()) << audio.status();
    return audio.ok() ? audio->num_frames() : -1;
  };
  const int64_t exact = FirstPushSamples(std::nullopt);
  const int64_t early = FirstPushSamples(0);
  EXPECT_LT(exact, early);
  Codes offline_first = first;
  offline_first.num_samples = 0;
  absl::StatusOr<Audio> whole = backend_->Decode(offline_first, decode_options_);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(early, std::min(whole->num_frames(), Length(codes)));
}

TEST_P(StreamingTest, NegativeLookaheadBoundIsRefused) {
  DecodeOptions options = decode_options_;
  options.lookahead_frames = -1;
  EXPECT_TRUE(testing::IsInvalidArgument(
      backend_->OpenDecodeStream(options, fixture_.expected_codes.num_samples).status(), ""));
}

TEST_P(StreamingTest, BadChunksAreRefusedBeforeAnyWork) {
  auto decoder = backend_->OpenDecodeStream(decode_options_, fixture_.expected_codes.num_samples);
  ASSERT_TRUE(decoder.ok());
  EXPECT_TRUE(testing::IsInvalidArgument((*decoder)->Push(Codes{}).status(), "level"));
  Codes bad = SliceCodes(fixture_.expected_codes, 0, Group());
  bad.levels[0].values[0] = static_cast<uint32_t>(desc_.codebook_size);
  EXPECT_TRUE(testing::IsInvalidArgument((*decoder)->Push(bad).status(), "out of range"));
  Codes empty = SliceCodes(fixture_.expected_codes, 0, 0);
  EXPECT_TRUE(testing::IsInvalidArgument((*decoder)->Push(empty).status(), "frame"));
  EXPECT_TRUE(testing::IsInvalidArgument((*decoder)->Finish().status(), ""));

  auto encoder = backend_->OpenEncodeStream(encode_options_);
  ASSERT_TRUE(encoder.ok());
  Audio wrong_rate = SliceFrames(fixture_.input, 0, 10);
  wrong_rate.sample_rate += 1;
  EXPECT_TRUE(testing::IsInvalidArgument((*encoder)->Push(wrong_rate).status(), "Hz"));
  EXPECT_TRUE(testing::IsInvalidArgument((*encoder)->Finish().status(), "no audio"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, StreamingTest, ::testing::ValuesIn(testing::FixtureCases()));

}  // namespace
}  // namespace codec
