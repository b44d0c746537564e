// batch_bench: many concurrent streams of one full-size model (random
// weights of the published shapes) through the server's StepExecutor, with
// cross-stream batching and without it, in the same run.
//
//   bazel run -c opt //bench:batch_bench -- --streams=1,4,16,64 > table.md
//
// Each scenario is a preset, a direction and a chunk size in frames. For N
// streams, each on its own thread with its own session, pushes `--seconds`
// of audio (or its codes) chunk by chunk, as fast as it can ("unpaced") or
// one chunk per chunk of real time ("paced"). Reported: aggregate speed
// against real time (all streams' audio over the wall time), the latency
// of each step (queueing included) p50/p99, and the mean batch size; the
// offline single-request speed of the same model on the same audio is the
// reference row.
//
//   bazel run -c opt //bench:batch_bench -- --count_ops --host_kernels=device
//     --streams=1,4,16,64,256
//
// counts instead what one batched step of N streams dispatches (OpCount):
// operations, host syncs and downloads, with the operations whose count
// grows with N. --host_kernels=device runs the sequence of operations a GPU
// runs (nn/host_kernels.h).

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/host_kernels.h"
#include "backends/streaming/stream_slots.h"
#include "bench/bench_audio.h"
#include "bench/bench_model.h"
#include "bench/machine.h"
#include "bench/op_count.h"
#include "bench/step_op_count.h"
#include "bench/timing.h"
#include "server/serving/compute_slots.h"
#include "server/serving/step_executor.h"

ABSL_FLAG(std::vector<std::string>, scenarios,
          std::vector<std::string>({"snac_24khz:decode:4", "encodec_24khz:encode:1"}),
          "preset:direction:chunk_frames, ...");
ABSL_FLAG(std::vector<std::string>, streams, std::vector<std::string>({"1", "4", "16", "64"}),
          "Concurrent stream counts.");
ABSL_FLAG(std::string, device, "cpu", "Where the model runs: cpu or cuda:N.");
ABSL_FLAG(int, threads, 2, "Intra-op threads.");
ABSL_FLAG(int, passes, 1, "Forward passes at a time (the device's ComputeSlots).");
ABSL_FLAG(double, seconds, 2, "Seconds of audio each stream carries.");
ABSL_FLAG(int, max_batch, 64, "Most steps per batch when batching.");
ABSL_FLAG(double, batch_window_ms, 2, "Batch window when batching.");
ABSL_FLAG(bool, paced, true, "Also run paced rows.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording to code.");
ABSL_FLAG(bool, count_ops, false,
          "Count the operations of one batched step per stream count instead of timing.");
ABSL_FLAG(int, count_warmup_steps, 6,
          "Batched steps every stream takes before the counted one (past its start).");
ABSL_FLAG(std::string, host_kernels, "exact",
          "A CPU model's kernels: exact (the reference's rounding) or device (the operations a "
          "GPU runs).");
ABSL_FLAG(std::string, noise, "off",
          "SNAC's decoder noise: off, or on (random, as the server's default).");
ABSL_FLAG(std::string, workdir, "/tmp/codec_batch_bench",
          "Where the random-weight checkpoints are written.");

namespace codec::bench {
namespace {

struct Row {
  double aggregate_x_real_time = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_batch = 0;
};

struct Scenario {
  std::string preset;
  bool decode = false;
  int64_t chunk_frames = 1;
};

// Runs `streams` streams of `scenario` through one executor.
absl::StatusOr<Row> RunStreams(const CodecBackend& backend, const Scenario& scenario,
                               const Audio& audio, const Codes& codes, int streams, bool paced,
                               server::StepExecutor::Options options) {
  server::ComputeSlots slots(absl::GetFlag(FLAGS_passes));
  server::StepExecutor executor(options, slots);
  const CodecDescription& desc = backend.description();
  const double chunk_seconds =
      static_cast<double>(scenario.chunk_frames * desc.hop_length) / desc.sample_rate;
  absl::Mutex mutex;
  std::vector<double> step_ms;
  absl::Status failure;
  ASSIGN_OR_RETURN(const DecodeOptions decode_options,
                   ParseDecodeOptions(absl::GetFlag(FLAGS_noise), std::nullopt));
  std::vector<std::thread> threads;
  const Clock::time_point start = Clock::now();
  for (int s = 0; s < streams; ++s) {
    threads.emplace_back([&] {
      const server::StepExecutor::Seat seat(executor);
      std::vector<double> mine;
      absl::Status status;
      auto step = [&](int64_t index, auto push) {
        if (paced) {
          std::this_thread::sleep_until(start +
                                        std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(index * chunk_seconds)));
        }
        const Clock::time_point begin = Clock::now();
        status.Update(push());
        mine.push_back(1000 * SecondsSince(begin));
      };
      if (scenario.decode) {
        absl::StatusOr<std::unique_ptr<DecodeStream>> session =
            backend.OpenDecodeStream(decode_options, codes.num_samples);
        status = session.status();
        const int64_t frames = codes.levels.back().frames;
        for (int64_t first = 0, i = 0; status.ok() && first < frames;
             first += scenario.chunk_frames, ++i) {
          const Codes piece =
              SliceCodes(codes, first, std::min(frames, first + scenario.chunk_frames));
          step(i, [&] { return executor.Push(**session, piece, {}).status(); });
        }
        if (status.ok()) status = (*session)->Finish().status();
      } else {
        absl::StatusOr<std::unique_ptr<EncodeStream>> session = backend.OpenEncodeStream({});
        status = session.status();
        const int64_t chunk = scenario.chunk_frames * desc.hop_length;
        for (int64_t first = 0, i = 0; status.ok() && first < audio.num_frames();
             first += chunk, ++i) {
          const Audio piece =
              SliceFrames(audio, first, std::min(audio.num_frames(), first + chunk));
          step(i, [&] { return executor.Push(**session, piece, {}).status(); });
        }
        if (status.ok()) status = (*session)->Finish().status();
      }
      absl::MutexLock lock(&mutex);
      step_ms.insert(step_ms.end(), mine.begin(), mine.end());
      failure.Update(status);
    });
  }
  for (std::thread& thread : threads) thread.join();
  const double wall = SecondsSince(start);
  RETURN_IF_ERROR(failure);
  const server::StepExecutor::Stats stats = executor.stats();
  const double audio_seconds = static_cast<double>(audio.num_frames()) / desc.sample_rate;
  return Row{
      .aggregate_x_real_time = streams * audio_seconds / wall,
      .p50_ms = Percentile(step_ms, 0.5),
      .p99_ms = Percentile(step_ms, 0.99),
      .mean_batch = stats.batches > 0 ? static_cast<double>(stats.pushes) / stats.batches : 0};
}

absl::Status RunScenario(const Scenario& scenario) {
  ASSIGN_OR_RETURN(BenchModel model, LoadBenchModel(scenario.preset, absl::GetFlag(FLAGS_workdir),
                                                    absl::GetFlag(FLAGS_device)));
  const std::shared_ptr<CodecBackend>& backend = model.backend;
  const CodecDescription& desc = backend->description();
  const double seconds = absl::GetFlag(FLAGS_seconds);
  ASSIGN_OR_RETURN(Audio audio, BenchAudio(absl::GetFlag(FLAGS_audio), desc, seconds));
  ASSIGN_OR_RETURN(const OfflineTimes offline, TimeOffline(*backend, audio));
  const Codes& codes = offline.codes;
  const char* direction = scenario.decode ? "decode" : "encode";
  printf("| %s | %s | offline, one request | - | - | %.2f | - | - | - |\n", scenario.preset.c_str(),
         direction, seconds / (scenario.decode ? offline.decode_seconds : offline.encode_seconds));
  fflush(stdout);
  const int max_batch = absl::GetFlag(FLAGS_max_batch);
  const absl::Duration window = absl::Milliseconds(absl::GetFlag(FLAGS_batch_window_ms));
  for (const std::string& count : absl::GetFlag(FLAGS_streams)) {
    const int streams = std::stoi(count);
    std::vector<bool> pacings = {false};
    if (absl::GetFlag(FLAGS_paced)) pacings.push_back(true);
    for (bool paced : pacings) {
      ASSIGN_OR_RETURN(Row alone, RunStreams(*backend, scenario, audio, codes, streams, paced,
                                             {.max_batch = 1}));
      ASSIGN_OR_RETURN(Row batched, RunStreams(*backend, scenario, audio, codes, streams, paced,
                                               {.max_batch = max_batch, .batch_window = window}));
      for (const auto& [name, row] :
           {std::pair("unbatched", alone), std::pair("batched", batched)}) {
        printf("| %s | %s | %lld-frame steps, %s | %d | %s | %.2f | %.1f | %.1f | %.1f |\n",
               scenario.preset.c_str(), direction, static_cast<long long>(scenario.chunk_frames),
               paced ? "paced" : "unpaced", streams, name, row.aggregate_x_real_time, row.p50_ms,
               row.p99_ms, row.mean_batch);
      }
      printf("| %s | %s | batched / unbatched | %d | | %.2fx | | | |\n", scenario.preset.c_str(),
             direction, streams, batched.aggregate_x_real_time / alone.aggregate_x_real_time);
      fflush(stdout);
    }
  }
  return absl::OkStatus();
}

// The operations (nested ones too) whose count grows the most from the
// fewest streams to the most, at most `rows` of them.
void PrintGrowth(const Scenario& scenario, int fewest, const OpCount::Counts& few, int most,
                 const OpCount::Counts& many, size_t rows) {
  std::vector<std::pair<int64_t, std::string>> growth;
  for (const auto& [name, count] : many.all_by_name) {
    const auto it = few.all_by_name.find(name);
    const int64_t before = it == few.all_by_name.end() ? 0 : it->second;
    if (count > before) growth.emplace_back(count - before, name);
  }
  std::sort(growth.rbegin(), growth.rend());
  if (growth.size() > rows) growth.resize(rows);
  printf("\n%s %s, %lld-frame steps: operations that grow from %d to %d streams\n\n",
         scenario.preset.c_str(), scenario.decode ? "decode" : "encode",
         static_cast<long long>(scenario.chunk_frames), fewest, most);
  printf("| operation | at %d | at %d |\n|---|---|---|\n", fewest, most);
  for (const auto& [extra, name] : growth) {
    printf("| %s | %lld | %lld |\n", name.c_str(),
           static_cast<long long>(many.all_by_name.at(name) - extra),
           static_cast<long long>(many.all_by_name.at(name)));
  }
  printf("\n");
}

absl::Status CountScenario(const Scenario& scenario) {
  ASSIGN_OR_RETURN(BenchModel model, LoadBenchModel(scenario.preset, absl::GetFlag(FLAGS_workdir),
                                                    absl::GetFlag(FLAGS_device)));
  const CodecBackend& backend = *model.backend;
  ASSIGN_OR_RETURN(Audio audio, BenchAudio(absl::GetFlag(FLAGS_audio), backend.description(),
                                           absl::GetFlag(FLAGS_seconds)));
  ASSIGN_OR_RETURN(const DecodeOptions decode_options,
                   ParseDecodeOptions(absl::GetFlag(FLAGS_noise), std::nullopt));
  std::vector<std::pair<int, OpCount::Counts>> rows;
  for (const std::string& count : absl::GetFlag(FLAGS_streams)) {
    const int streams = std::stoi(count);
    ASSIGN_OR_RETURN(OpCount::Counts counts,
                     CountBatchedStep(backend, scenario.decode, decode_options, audio,
                                      scenario.chunk_frames, streams,
                                      absl::GetFlag(FLAGS_count_warmup_steps)));
    printf("| %s | %s | %lld | %d | %lld | %.1f | %lld | %lld | %lld | %lld | %lld |\n",
           scenario.preset.c_str(), scenario.decode ? "decode" : "encode",
           static_cast<long long>(scenario.chunk_frames), streams,
           static_cast<long long>(counts.outermost),
           static_cast<double>(counts.outermost) / streams, static_cast<long long>(counts.all),
           static_cast<long long>(counts.our_scalar_reads),
           static_cast<long long>(counts.libtorch_scalar_reads),
           static_cast<long long>(counts.device_to_host_copies),
           static_cast<long long>(counts.downloads));
    fflush(stdout);
    rows.emplace_back(streams, std::move(counts));
  }
  if (rows.size() > 1) {
    PrintGrowth(scenario, rows.front().first, rows.front().second, rows.back().first,
                rows.back().second, 12);
  }
  return absl::OkStatus();
}

void PrintTableHead(bool count_ops) {
  if (count_ops) {
    printf(
        "| preset | direction | step frames | streams | operations | per stream | with nested | "
        "our value reads | libtorch's | device-to-host copies | downloads |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    return;
  }
  printf(
      "| preset | direction | streaming | streams | batching | aggregate x real time | step "
      "p50 ms | step p99 ms | mean batch |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  const absl::StatusOr<codec::nn::HostKernels> kernels =
      codec::nn::ParseHostKernels(absl::GetFlag(FLAGS_host_kernels));
  if (!kernels.ok()) {
    fprintf(stderr, "batch_bench: %s\n", kernels.status().ToString().c_str());
    return 2;
  }
  codec::nn::SetHostKernels(*kernels);
  // Every stream of the largest count gets a slot.
  int most_streams = 0;
  for (const std::string& count : absl::GetFlag(FLAGS_streams)) {
    most_streams = std::max(most_streams, std::stoi(count));
  }
  codec::nn::SetStreamSlots(most_streams);
  const bool count_ops = absl::GetFlag(FLAGS_count_ops);
  printf(
      "%s, on %s with %s host kernels, %d intra-op threads, %d pass(es) at a time, %.0f s of %s "
      "per stream, batches of up to %d steps with a %.0f ms window\n\n",
      codec::bench::MachineSummary().c_str(), absl::GetFlag(FLAGS_device).c_str(),
      absl::GetFlag(FLAGS_host_kernels).c_str(),
      absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_passes), absl::GetFlag(FLAGS_seconds),
      absl::GetFlag(FLAGS_audio).c_str(), absl::GetFlag(FLAGS_max_batch),
      absl::GetFlag(FLAGS_batch_window_ms));
  codec::bench::PrintTableHead(count_ops);
  int failures = 0;
  for (const std::string& spec : absl::GetFlag(FLAGS_scenarios)) {
    std::vector<std::string> parts = absl::StrSplit(spec, ':');
    if (parts.size() != 3) {
      fprintf(stderr, "batch_bench: scenario '%s' is not preset:direction:frames\n", spec.c_str());
      return 2;
    }
    const codec::bench::Scenario scenario{
        .preset = parts[0], .decode = parts[1] == "decode", .chunk_frames = std::stoll(parts[2])};
    const absl::Status status = count_ops ? codec::bench::CountScenario(scenario)
                                          : codec::bench::RunScenario(scenario);
    if (!status.ok()) {
      fprintf(stderr, "batch_bench: %s: %s\n", spec.c_str(), status.ToString().c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
