// model_bench: encode and decode speed of every full-size preset, with
// random weights of the published checkpoints' shapes (speed does not depend
// on their values), on real audio.
//
//   bazel run -c opt //bench:model_bench -- --runs=3 > table.md
//
// Each (preset, operation, thread count) row runs in its own child process,
// so its peak memory is its own: the child loads the model, runs the
// operation once to warm up, then `--runs` times (the median is reported),
// and once more under a FlopCounter. The parent also measures this
// machine's float32 matrix-multiply peak at each thread count, the figure
// the achieved GFLOP/s are compared with.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/codec_factory.h"
#include "backends/core/status_macros.h"
#include "backends/io/audio_convert.h"
#include "backends/io/codes_npz.h"
#include "backends/io/wav.h"
#include "bench/flop_counter.h"
#include "tests/testing/manifest.h"

ABSL_FLAG(std::vector<std::string>, presets, codec::ListPresets(), "Presets to measure.");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "Intra-op thread counts.");
ABSL_FLAG(int, runs, 3, "Timed runs per row (the median is reported).");
ABSL_FLAG(double, seconds, 10, "Seconds of audio per run.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording to code.");
ABSL_FLAG(std::string, workdir, "/tmp/codec_model_bench",
          "Where the random-weight checkpoints and codes are written.");
ABSL_FLAG(std::string, row, "", "Internal: run one row, preset:encode|decode:threads.");

namespace codec::bench {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// What one row measured.
struct RowResult {
  double median_seconds = 0;
  double flops = 0;
  double peak_rss_mb = 0;
};

// The first --seconds of the recording at the model's rate and channels.
absl::StatusOr<Audio> BenchAudio(const CodecDescription& description) {
  ASSIGN_OR_RETURN(Audio wav, io::ReadWav(absl::GetFlag(FLAGS_audio)));
  std::string report;
  ASSIGN_OR_RETURN(Audio audio, io::ConvertAudio(wav, description.sample_rate,
                                                 description.channels, &report));
  const int64_t frames = static_cast<int64_t>(absl::GetFlag(FLAGS_seconds) * audio.sample_rate);
  if (audio.num_frames() < frames) {
    return absl::InvalidArgumentError(absl::StrCat(absl::GetFlag(FLAGS_audio), " is shorter than ",
                                                   absl::GetFlag(FLAGS_seconds), " s"));
  }
  Audio cut{.sample_rate = audio.sample_rate, .channels = audio.channels};
  for (int c = 0; c < audio.channels; ++c) {
    const auto channel = audio.samples.begin() + c * audio.num_frames();
    cut.samples.insert(cut.samples.end(), channel, channel + frames);
  }
  return cut;
}

std::string CodesPath(const std::string& preset) {
  return absl::StrCat(absl::GetFlag(FLAGS_workdir), "/", preset, "/codes.npz");
}

// Runs one row in this process: load, warm up, time, count.
absl::StatusOr<RowResult> RunRow(const std::string& preset, const std::string& op, int threads) {
  at::set_num_threads(threads);
  const std::string workdir = absl::GetFlag(FLAGS_workdir);
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                   CreateBackend({.model = preset,
                                  .weights = absl::StrCat(workdir, "/", preset,
                                                          "/model.safetensors")}));
  RETURN_IF_ERROR(backend->Load());
  ASSIGN_OR_RETURN(Audio audio, BenchAudio(backend->description()));
  std::function<absl::Status()> work;
  if (op == "encode") {
    // The decode rows read these codes; written once, outside the timing.
    ASSIGN_OR_RETURN(Codes codes, backend->Encode(audio, {}));
    RETURN_IF_ERROR(io::WriteCodesNpz(CodesPath(preset), codes, backend->description()));
    work = [&]() { return backend->Encode(audio, {}).status(); };
  } else {
    ASSIGN_OR_RETURN(Codes codes, io::ReadCodesNpz(CodesPath(preset), backend->description()));
    work = [&backend, codes]() -> absl::Status {
      DecodeOptions options;
      options.noise = NoiseMode::kSeeded;
      return backend->Decode(codes, options).status();
    };
  }
  if (op != "encode") RETURN_IF_ERROR(work());  // Warm-up (the encode above was one).
  std::vector<double> times;
  for (int i = 0; i < absl::GetFlag(FLAGS_runs); ++i) {
    const Clock::time_point start = Clock::now();
    RETURN_IF_ERROR(work());
    times.push_back(SecondsSince(start));
  }
  RowResult result{.median_seconds = Median(times)};
  {
    FlopCounter counter;
    RETURN_IF_ERROR(work());
    result.flops = static_cast<double>(counter.flops());
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mb = usage.ru_maxrss / 1024.0;
  return result;
}

// Float32 GFLOP/s of a 2048^3 matrix product at `threads` (best of 5).
double MatmulPeakGflops(int threads) {
  at::set_num_threads(threads);
  const at::Tensor a = at::randn({2048, 2048}), b = at::randn({2048, 2048});
  at::mm(a, b);
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const Clock::time_point start = Clock::now();
    at::mm(a, b);
    best = std::min(best, SecondsSince(start));
  }
  return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
}

// Runs a row in a child process; its stdout is one line:
// "median_seconds flops peak_rss_mb".
absl::StatusOr<RowResult> RunRowInChild(const std::string& preset, const std::string& op,
                                        int threads) {
  const std::string command = absl::StrFormat(
      "'%s' --row=%s:%s:%d --runs=%d --seconds=%g --audio='%s' --workdir='%s'",
      std::filesystem::read_symlink("/proc/self/exe").string(), preset, op, threads,
      absl::GetFlag(FLAGS_runs), absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_audio),
      absl::GetFlag(FLAGS_workdir));
  FILE* child = popen(command.c_str(), "r");
  if (child == nullptr) return absl::InternalError("cannot start " + command);
  RowResult result;
  const int read = fscanf(child, "%lf %lf %lf", &result.median_seconds, &result.flops,
                          &result.peak_rss_mb);
  if (pclose(child) != 0 || read != 3) {
    return absl::InternalError(absl::StrCat("row ", preset, " ", op, " failed"));
  }
  return result;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

int RunTable() {
  const std::string workdir = absl::GetFlag(FLAGS_workdir);
  std::vector<int> thread_counts;
  for (const std::string& t : absl::GetFlag(FLAGS_threads)) thread_counts.push_back(std::stoi(t));
  std::map<int, double> peak;
  for (int threads : thread_counts) peak[threads] = MatmulPeakGflops(threads);

  printf("Machine: %s, %u cores. Audio: %g s of %s, median of %d runs.\n\n", CpuModel().c_str(),
         std::thread::hardware_concurrency(), absl::GetFlag(FLAGS_seconds),
         absl::GetFlag(FLAGS_audio).c_str(), absl::GetFlag(FLAGS_runs));
  for (int threads : thread_counts) {
    printf("Matrix-multiply peak (float32, 2048^3), %d thread(s): %.1f GFLOP/s\n", threads,
           peak[threads]);
  }
  printf("\n| preset | op | threads | wall s | x real time | GFLOP per audio s | GFLOP/s | "
         "%% of matmul peak | peak RSS MB |\n|---|---|---|---|---|---|---|---|---|\n");
  fflush(stdout);
  int failures = 0;
  for (const std::string& preset : absl::GetFlag(FLAGS_presets)) {
    absl::StatusOr<std::string> weights = testing::WriteManifestCheckpoint(preset, workdir);
    if (!weights.ok()) {
      fprintf(stderr, "model_bench: %s: %s\n", preset.c_str(), weights.status().ToString().c_str());
      ++failures;
      continue;
    }
    for (const char* op : {"encode", "decode"}) {
      for (int threads : thread_counts) {
        absl::StatusOr<RowResult> row = RunRowInChild(preset, op, threads);
        if (!row.ok()) {
          fprintf(stderr, "model_bench: %s\n", row.status().ToString().c_str());
          ++failures;
          continue;
        }
        const double seconds = absl::GetFlag(FLAGS_seconds);
        const double gflops = row->flops / row->median_seconds / 1e9;
        printf("| %s | %s | %d | %.2f | %.2f | %.1f | %.1f | %.0f%% | %.0f |\n", preset.c_str(),
               op, threads, row->median_seconds, seconds / row->median_seconds,
               row->flops / seconds / 1e9, gflops, 100 * gflops / peak[threads], row->peak_rss_mb);
        fflush(stdout);
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

int RunOneRow(const std::string& spec) {
  const std::vector<std::string> parts = absl::StrSplit(spec, ':');
  if (parts.size() != 3) return 2;
  absl::StatusOr<RowResult> row = RunRow(parts[0], parts[1], std::stoi(parts[2]));
  if (!row.ok()) {
    fprintf(stderr, "model_bench: %s %s: %s\n", parts[0].c_str(), parts[1].c_str(),
            row.status().ToString().c_str());
    return 1;
  }
  printf("%.6f %.0f %.1f\n", row->median_seconds, row->flops, row->peak_rss_mb);
  return 0;
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string row = absl::GetFlag(FLAGS_row);
  return row.empty() ? codec::bench::RunTable() : codec::bench::RunOneRow(row);
}
