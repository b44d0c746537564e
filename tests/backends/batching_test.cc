// Streams pushed as one batch (PushEach) against the same streams pushed
// alone, for every family and network shape: a stream's codes and audio do
// not depend on its neighbours (codes >= 99.9% identical, >= 99% on the
// operations a GPU runs; audio within 1e-4; the same lengths), whatever
// their positions and chunk sizes, with streams joining and leaving
// mid-batch, a bad chunk among them, and SNAC's seeded noise drawn from each
// stream's own generator.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "backends/core/stream_batch.h"
#include "backends/nn/stream_batch.h"
#include "tests/testing/fixture.h"
#include "tests/testing/fixture_codec_test.h"

namespace codec {
namespace {

constexpr double kCodesAgreement = 0.999;
// On the operations a GPU runs (TestHostKernels() kDeviceSequence, or a
// GPU), libtorch's products round by their number of rows (OpenBLAS and
// cuBLAS pick kernels by shape), so a frame's latent differs in its last
// bits batched, and the tiny EnCodec's near-tie codewords flip, taking
// their frame's later codebooks along (measured: 99.67 % for one stream).
// That is the end-to-end bar parity_test sets where the halves are checked
// apart; the exact kernels hold kCodesAgreement.
constexpr double kCodesAgreementOffTheExactKernels = 0.99;
constexpr double kMostAudioError = 1e-4;

// One stream of the schedule: it joins at step `join`, then pushes one
// chunk per step (`units` of the group each, cycling) until its input ends,
// then finishes.
struct Plan {
  int join;
  std::vector<int64_t> units;
};

const std::vector<Plan>& Plans() {
  static const auto* plans = new std::vector<Plan>{
      {0, {1}}, {0, {1}}, {1, {2}}, {2, {1, 2}}, {4, {1}},
  };
  return *plans;
}

Codes Concat(const Codes& a, const Codes& b) { return ConcatCodes({a, b}); }
Audio Concat(const Audio& a, const Audio& b) { return ConcatAudio({a, b}); }

// Cuts `total` into chunks of `unit` times the plan's counts in turn.
std::vector<int64_t> ChunksOf(const Plan& plan, int64_t total, int64_t unit) {
  std::vector<int64_t> sizes;
  for (int64_t done = 0, i = 0; done < total; ++i) {
    sizes.push_back(std::min(total - done, unit * plan.units[i % plan.units.size()]));
    done += sizes.back();
  }
  return sizes;
}

class BatchingTest : public testing::FixtureCodecTest {
 protected:
  static double CodesAgreementBar() {
    const bool exact = testing::TestDevice() == "cpu" &&
                       testing::TestHostKernels().value_or(nn::HostKernels::kExact) ==
                           nn::HostKernels::kExact;
    return exact ? kCodesAgreement : kCodesAgreementOffTheExactKernels;
  }

  // Stream k's input: a different stretch of the recording for each.
  Audio InputOf(size_t k) const {
    const int64_t length = desc_.sample_rate / 2 + static_cast<int64_t>(k) * desc_.hop_length;
    const int64_t first = static_cast<int64_t>(k) * desc_.sample_rate / 4;
    return SliceFrames(recording_, first, first + length);
  }

  // Runs the plans' streams on `sessions`: stream k pushes piece(k, first,
  // last) for its plan's chunks of totals[k] (in `unit`s), all streams at
  // once (`together`: each step's pushes as one PushEach) or each alone, and
  // finishes once its input ends; returns each stream's whole output.
  template <typename Session, typename Piece>
  auto RunPlans(const std::vector<std::unique_ptr<Session>>& sessions,
                const std::vector<int64_t>& totals, int64_t unit, Piece piece, bool together) {
    using Chunk = decltype(piece(size_t{0}, int64_t{0}, int64_t{0}));
    using Out = typename std::decay_t<decltype(*sessions[0]->Finish())>;
    const size_t n = sessions.size();
    std::vector<std::vector<int64_t>> chunks(n);
    for (size_t k = 0; k < n; ++k) chunks[k] = ChunksOf(Plans()[k], totals[k], unit);
    std::vector<size_t> next(n, 0);
    std::vector<int64_t> offset(n, 0);
    std::vector<Out> out(n);
    auto append = [&](size_t k, const absl::StatusOr<Out>& more) {
      EXPECT_TRUE(more.ok()) << more.status();
      if (more.ok()) out[k] = Concat(out[k], *more);
    };
    for (int step = 0;; ++step) {
      std::vector<size_t> pushing;
      std::vector<Chunk> pieces;
      for (size_t k = 0; k < n; ++k) {
        if (step < Plans()[k].join || next[k] == chunks[k].size()) continue;
        pushing.push_back(k);
        pieces.push_back(piece(k, offset[k], offset[k] + chunks[k][next[k]]));
        offset[k] += chunks[k][next[k]++];
      }
      if (pushing.empty()) break;
      std::vector<Session*> batch;
      std::vector<const Chunk*> batch_chunks;
      for (size_t i = 0; i < pushing.size(); ++i) {
        batch.push_back(sessions[pushing[i]].get());
        batch_chunks.push_back(&pieces[i]);
      }
      std::vector<absl::StatusOr<Out>> results;
      if (together) {
        results = PushEach(batch, batch_chunks);
      } else {
        for (size_t i = 0; i < batch.size(); ++i)
          results.push_back(batch[i]->Push(*batch_chunks[i]));
      }
      for (size_t i = 0; i < pushing.size(); ++i) {
        const size_t k = pushing[i];
        append(k, results[i]);
        // A stream leaves as soon as its input ends; the others go on.
        if (next[k] == chunks[k].size()) append(k, sessions[k]->Finish());
      }
    }
    return out;
  }

  std::vector<Codes> Encode(bool together) {
    std::vector<std::unique_ptr<EncodeStream>> sessions;
    std::vector<Audio> inputs;
    std::vector<int64_t> totals;
    for (size_t k = 0; k < Plans().size(); ++k) {
      absl::StatusOr<std::unique_ptr<EncodeStream>> session =
          backend_->OpenEncodeStream(fixture_.ReferenceEncodeOptions());
      EXPECT_TRUE(session.ok()) << session.status();
      sessions.push_back(*std::move(session));
      inputs.push_back(InputOf(k));
      totals.push_back(inputs.back().num_frames());
    }
    return RunPlans(
        sessions, totals, Group() * desc_.hop_length,
        [&](size_t k, int64_t first, int64_t last) { return SliceFrames(inputs[k], first, last); },
        together);
  }

  // Decodes of each stream's codes, with noise `mode` (each stream seeded by
  // its index when seeded).
  std::vector<Audio> Decode(const std::vector<Codes>& codes, NoiseMode mode, bool together) {
    std::vector<std::unique_ptr<DecodeStream>> sessions;
    std::vector<int64_t> totals;
    for (size_t k = 0; k < codes.size(); ++k) {
      DecodeOptions options;
      options.noise = mode;
      options.seed = 100 + k;
      absl::StatusOr<std::unique_ptr<DecodeStream>> session =
          backend_->OpenDecodeStream(options, codes[k].num_samples);
      EXPECT_TRUE(session.ok()) << session.status();
      sessions.push_back(*std::move(session));
      totals.push_back(codes[k].levels.back().frames);
    }
    return RunPlans(
        sessions, totals, Group(),
        [&](size_t k, int64_t first, int64_t last) { return SliceCodes(codes[k], first, last); },
        together);
  }
};

TEST_P(BatchingTest, BatchedEncodesEqualEncodesAlone) {
  const nn::StackedPushCount before = nn::StackedPushes();
  const std::vector<Codes> batched = Encode(/*together=*/true);
  const nn::StackedPushCount after = nn::StackedPushes();
  const std::vector<Codes> alone = Encode(/*together=*/false);
  for (size_t k = 0; k < alone.size(); ++k) {
    const testing::CodesAgreement agreement = testing::CompareCodes(batched[k], alone[k]);
    ASSERT_TRUE(agreement.same_shape) << "stream " << k;
    EXPECT_GE(agreement.identical_fraction, CodesAgreementBar()) << "stream " << k;
    EXPECT_EQ(batched[k].num_samples, alone[k].num_samples) << "stream " << k;
    EXPECT_EQ(batched[k].scales, alone[k].scales) << "stream " << k;
  }
  std::cout << GetParam() << " encode: " << after.rows - before.rows << " rows in "
            << after.batches - before.batches << " stacked pushes\n";
  // EnCodec 48 kHz streams segment by segment and pushes alone.
  if (desc_.segment_length == 0) {
    EXPECT_GT(after.rows - before.rows, 0);
  }
}

TEST_P(BatchingTest, BatchedDecodesEqualDecodesAlone) {
  std::vector<Codes> codes = Encode(/*together=*/false);
  for (NoiseMode mode : {NoiseMode::kOff, NoiseMode::kSeeded}) {
    if (mode == NoiseMode::kSeeded && !desc_.has_noise) continue;
    const nn::StackedPushCount before = nn::StackedPushes();
    const std::vector<Audio> batched = Decode(codes, mode, /*together=*/true);
    const nn::StackedPushCount after = nn::StackedPushes();
    const std::vector<Audio> alone = Decode(codes, mode, /*together=*/false);
    double worst = 0;
    for (size_t k = 0; k < alone.size(); ++k) {
      ASSERT_EQ(batched[k].num_frames(), alone[k].num_frames()) << "stream " << k;
      worst = std::max(worst, testing::MaxAbsDiff(batched[k], alone[k]));
    }
    EXPECT_LE(worst, kMostAudioError);
    std::cout << GetParam() << " decode (noise " << (mode == NoiseMode::kOff ? "off" : "seeded")
              << "): max abs error " << worst << ", " << after.rows - before.rows << " rows in "
              << after.batches - before.batches << " stacked pushes\n";
    if (desc_.segment_length == 0) {
      EXPECT_GT(after.rows - before.rows, 0);
    }
  }
}

// A bad chunk in a batch is its own stream's error; the others' results
// are what they would be without it.
TEST_P(BatchingTest, ABadChunkHurtsOnlyItsStream) {
  const Codes& codes = fixture_.expected_codes;
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  auto good = backend_->OpenDecodeStream(options, codes.num_samples);
  auto bad = backend_->OpenDecodeStream(options, codes.num_samples);
  auto alone = backend_->OpenDecodeStream(options, codes.num_samples);
  ASSERT_TRUE(good.ok() && bad.ok() && alone.ok());
  const Codes first = SliceCodes(codes, 0, 2 * Group());
  Codes broken = first;
  broken.levels[0].values[0] = static_cast<uint32_t>(desc_.codebook_size);
  std::vector<absl::StatusOr<Audio>> out = PushEach<Codes, Audio>({good->get(), bad->get()}, {&first, &broken});
  EXPECT_TRUE(testing::IsInvalidArgument(out[1].status(), "out of range"));
  ASSERT_TRUE(out[0].ok()) << out[0].status();
  absl::StatusOr<Audio> expected = (*alone)->Push(first);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(testing::MaxAbsDiff(*out[0], *expected), 0.0);
}

// One fixture per network shape (the others differ in quantisers only).
INSTANTIATE_TEST_SUITE_P(Fixtures, BatchingTest,
                         ::testing::Values("encodec24_tiny_bw6", "encodec48_tiny_stereo_bw6",
                                           "dac16_tiny", "dac44_tiny", "snac24_tiny",
                                           "snac44_tiny_attn"));

}  // namespace
}  // namespace codec
