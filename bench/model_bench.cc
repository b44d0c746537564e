// model_bench: encode and decode speed of every full-size preset, with
// random weights of the published checkpoints' shapes (speed does not depend
// on their values), on real audio.
//
//   bazel run //bench:model_bench -- --runs=3 --reference > table.md
//
// Each (preset, operation, thread count) row runs in its own child process,
// so its peak memory is its own: the child loads the model, runs the
// operation once to warm up (under a FlopCounter), then `--runs` times (the
// median is reported). The parent also measures this
// machine's float32 matrix-multiply peak at each thread count, the figure
// the achieved GFLOP/s are compared with. With --reference, the upstream
// PyTorch code (bench/reference/, on torch 2.11 in a pinned venv) times the
// same row right after ours, on the same audio file, weights and threads.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/codes_npz.h"
#include "backends/io/npy.h"
#include "backends/io/zip_writer.h"
#include "backends/kernels/conv_precision.h"
#include "backends/runtime/cpu_block_cache.h"
#include "bench/bench_audio.h"
#include "bench/flop_counter.h"
#include "bench/layer_profile.h"
#include "bench/machine.h"
#include "bench/timing.h"
#include "tests/testing/manifest.h"

ABSL_FLAG(std::vector<std::string>, presets, codec::ListPresets(), "Presets to measure.");
ABSL_FLAG(std::vector<std::string>, threads, std::vector<std::string>({"1", "2"}),
          "Intra-op thread counts.");
ABSL_FLAG(int, runs, 3, "Timed runs per row (the median is reported).");
ABSL_FLAG(double, seconds, 10, "Seconds of audio per run.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording to code.");
ABSL_FLAG(std::string, workdir, "/tmp/codec_model_bench",
          "Where the random-weight checkpoints and codes are written.");
ABSL_FLAG(bool, reference, false,
          "Also time the upstream PyTorch reference of every row "
          "(bench/reference/reference_bench.py): the reference columns.");
ABSL_FLAG(std::string, reference_python, "",
          "Python that runs bench/reference/reference_bench.py, with the upstream codecs' "
          "packages; empty: the pinned venv `setup/python-venv.sh reference` makes (once) and "
          "names.");
ABSL_FLAG(std::vector<std::string>, precisions, std::vector<std::string>({"fp32", "bf16"}),
          "Conv precisions to measure (codec_server's --precision). Their quality is measured "
          "on the fixtures (tests/backends/bf16_test): random weights saturate the outputs.");
ABSL_FLAG(int64_t, cpu_block_cache_mb, 2048,
          "Freed large CPU blocks kept for reuse, as codec_server's flag (0: libtorch's "
          "allocator alone).");
ABSL_FLAG(bool, profile, false,
          "After each row's timed runs, one more under a profile by kind of layer, "
          "printed to stderr as table rows: | preset | op | threads | layer kind | s | share |.");
ABSL_FLAG(std::string, row, "", "Internal: run one row, preset:encode|decode:threads:precision.");

namespace codec::bench {
namespace {

// What one row measured.
struct RowResult {
  double median_seconds = 0;
  double flops = 0;
  double peak_rss_mb = 0;
  // Samples per channel of the audio an encode row timed and wrote to
  // input.npy, the file the reference times; 0 for decode rows.
  int64_t samples = 0;
};

// Files of one preset in the work folder: its weights, the bench audio as
// float32 [channels, samples] .npy (what the reference reads) and its codes.
std::string WorkPath(const std::string& preset, const std::string& file) {
  return absl::StrCat(absl::GetFlag(FLAGS_workdir), "/", preset, "/", file);
}

// Runs one row in this process: load, warm up, time, count.
absl::StatusOr<RowResult> RunRow(const std::string& preset, const std::string& op, int threads,
                                 const std::string& precision) {
  at::set_num_threads(threads);
  RETURN_IF_ERROR(nn::SetConvPrecision(precision));
  ASSIGN_OR_RETURN(
      std::shared_ptr<CodecBackend> backend,
      CreateBackend({.model = preset, .weights = WorkPath(preset, "model.safetensors")}));
  RETURN_IF_ERROR(backend->Load());
  ASSIGN_OR_RETURN(Audio audio, BenchAudio(absl::GetFlag(FLAGS_audio), backend->description(),
                                           absl::GetFlag(FLAGS_seconds)));
  std::function<absl::Status()> work;
  RowResult result;
  if (op == "encode") {
    // The warm-up, counted. The decode rows read its codes, the reference
    // this audio; written once, outside the timing.
    FlopCounter counter;
    ASSIGN_OR_RETURN(Codes codes, backend->Encode(audio, {}));
    result.flops = static_cast<double>(counter.flops());
    RETURN_IF_ERROR(
        io::WriteCodesNpz(WorkPath(preset, "codes.npz"), codes, backend->description()));
    RETURN_IF_ERROR(io::WriteFileBytes(
        WorkPath(preset, "input.npy"),
        io::SerializeNpy(io::NpyFromFloat32({audio.channels, audio.num_frames()}, audio.samples))));
    work = [&]() { return backend->Encode(audio, {}).status(); };
    result.samples = audio.num_frames();
  } else {
    ASSIGN_OR_RETURN(Codes codes,
                     io::ReadCodesNpz(WorkPath(preset, "codes.npz"), backend->description()));
    work = [&backend, codes]() -> absl::Status {
      DecodeOptions options;
      options.noise = NoiseMode::kSeeded;
      return backend->Decode(codes, options).status();
    };
    FlopCounter counter;  // The warm-up, counted.
    RETURN_IF_ERROR(work());
    result.flops = static_cast<double>(counter.flops());
  }
  std::vector<double> times;
  for (int i = 0; i < absl::GetFlag(FLAGS_runs); ++i) {
    const Clock::time_point start = Clock::now();
    RETURN_IF_ERROR(work());
    times.push_back(SecondsSince(start));
  }
  result.median_seconds = Percentile(times, 0.5);
  if (absl::GetFlag(FLAGS_profile)) {
    RETURN_IF_ERROR(PrintLayerProfile(
        absl::StrCat(preset, " | ", precision, " | ", op, " | ", threads), work));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  result.peak_rss_mb = usage.ru_maxrss / 1024.0;
  return result;
}

// Float32 GFLOP/s of `product` (which does `flops`), best of 5 after a warm-up.
double BestGflops(const std::function<void()>& product, double flops) {
  product();
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const Clock::time_point start = Clock::now();
    product();
    best = std::min(best, SecondsSince(start));
  }
  return flops / best / 1e9;
}

// This machine's float32 matrix-multiply speed at one thread count, by the
// two kernels libtorch has: its BLAS (`at::mm`, 2048^3; Debian links the
// system libblas.so.3, which may be the slow reference BLAS or OpenBLAS) and
// oneDNN (a kernel-3 convolution, which libtorch always hands to oneDNN: a
// 1024 x 3072 by 3072 x 4096 product). The models' larger convs run on
// oneDNN, their 1x1 convs (on one thread), LSTMs and attention on the BLAS,
// so the faster of the two is the peak they are held to.
struct MatmulPeak {
  double blas_gflops = 0;
  double onednn_gflops = 0;
  double best() const { return std::max(blas_gflops, onednn_gflops); }
};

MatmulPeak MeasureMatmulPeak(int threads) {
  at::set_num_threads(threads);
  const at::Tensor a = at::randn({2048, 2048}), b = at::randn({2048, 2048});
  const at::Tensor signal = at::randn({1, 1024, 4096}), weight = at::randn({1024, 1024, 3});
  return {.blas_gflops = BestGflops([&] { at::mm(a, b); }, 2.0 * 2048 * 2048 * 2048),
          .onednn_gflops =
              BestGflops([&] { at::conv1d(signal, weight, {}, 1, 1); }, 2.0 * 1024 * 3072 * 4096)};
}

// Runs `command`, whose stdout is `count` numbers, and reads them.
// What `command` prints on stdout, if it exits 0.
absl::StatusOr<std::string> ChildOutput(const std::string& command) {
  FILE* child = popen(command.c_str(), "r");
  if (child == nullptr) return absl::InternalError("cannot start " + command);
  std::string output;
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), child) != nullptr) output += buffer;
  if (pclose(child) != 0) return absl::InternalError(absl::StrCat("failed: ", command));
  return output;
}

// The first `count` numbers `command` prints.
absl::StatusOr<std::vector<double>> RunChild(const std::string& command, int count) {
  ASSIGN_OR_RETURN(const std::string output, ChildOutput(command));
  std::istringstream numbers(output);
  std::vector<double> values(count);
  int read = 0;
  while (read < count && numbers >> values[read]) ++read;
  if (read != count) return absl::InternalError(absl::StrCat("failed: ", command));
  return values;
}

// Our row in a child process (it prints "median_seconds flops peak_rss_mb
// samples").
absl::StatusOr<RowResult> RunRowInChild(const std::string& preset, const std::string& op,
                                        int threads, const std::string& precision) {
  ASSIGN_OR_RETURN(
      std::vector<double> values,
      RunChild(absl::StrFormat("'%s' --row=%s:%s:%d:%s --runs=%d --seconds=%g --audio='%s' "
                               "--workdir='%s' --profile=%s --cpu_block_cache_mb=%d",
                               std::filesystem::read_symlink("/proc/self/exe").string(), preset, op,
                               threads, precision, absl::GetFlag(FLAGS_runs),
                               absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_audio),
                               absl::GetFlag(FLAGS_workdir),
                               absl::GetFlag(FLAGS_profile) ? "true" : "false",
                               absl::GetFlag(FLAGS_cpu_block_cache_mb)),
               4));
  return RowResult{.median_seconds = values[0],
                   .flops = values[1],
                   .peak_rss_mb = values[2],
                   .samples = static_cast<int64_t>(values[3])};
}

// The Python that runs the reference: --reference_python, or the pinned
// venv's, which setup/python-venv.sh makes on first use (minutes) and names.
// `bazel run` starts us in the runfiles tree, so the script is the
// workspace's (BUILD_WORKSPACE_DIRECTORY); elsewhere we run from the source
// root, as for bench/reference/.
absl::StatusOr<std::string> ReferencePython() {
  if (!absl::GetFlag(FLAGS_reference_python).empty()) return absl::GetFlag(FLAGS_reference_python);
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string command =
      absl::StrCat("'", workspace != nullptr ? workspace : ".", "/setup/python-venv.sh' reference");
  ASSIGN_OR_RETURN(std::string venv, ChildOutput(command));
  absl::StripAsciiWhitespace(&venv);
  if (venv.empty()) return absl::FailedPreconditionError(absl::StrCat("no venv from: ", command));
  return absl::StrCat(venv, "/bin/python");
}

// The upstream reference's row (reference_bench.py prints
// "median_seconds peak_rss_mb"); its FLOPs are not counted. It times the
// workdir's input.npy and refuses it unless it holds `samples` samples per
// channel, the length our encode rows timed and wrote there.
absl::StatusOr<RowResult> RunReferenceRow(const std::string& python, const std::string& preset,
                                          const std::string& op, int threads, int64_t samples) {
  ASSIGN_OR_RETURN(
      std::vector<double> values,
      RunChild(absl::StrFormat("'%s' bench/reference/reference_bench.py --preset=%s --op=%s "
                               "--threads=%d --runs=%d --weights='%s' --audio='%s' "
                               "--expect_samples=%d",
                               python, preset, op, threads, absl::GetFlag(FLAGS_runs),
                               WorkPath(preset, "model.safetensors"), WorkPath(preset, "input.npy"),
                               samples),
               2));
  return RowResult{.median_seconds = values[0], .peak_rss_mb = values[1]};
}

// One table line: our row, with the reference's columns when it ran.
void PrintRow(const std::string& preset, const std::string& op, int threads,
              const std::string& precision, const RowResult& row, const MatmulPeak& peak,
              const std::optional<RowResult>& reference) {
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const double gflops = row.flops / row.median_seconds / 1e9;
  const std::string reference_columns =
      reference
          ? absl::StrFormat("%.2f | %.2f | %.0f", reference->median_seconds,
                            row.median_seconds / reference->median_seconds, reference->peak_rss_mb)
          : "n/a | n/a | n/a";
  printf("| %s | %s | %d | %s | %.2f | %.2f | %.1f | %.1f | %.0f%% | %.0f | %s |\n", preset.c_str(),
         op.c_str(), threads, precision.c_str(), row.median_seconds, seconds / row.median_seconds,
         row.flops / seconds / 1e9, gflops, 100 * gflops / peak.best(), row.peak_rss_mb,
         reference_columns.c_str());
  fflush(stdout);
}

// The lines of one (preset, op, threads): ours in every precision, then the
// reference (one row for all precisions), then the lines. Ours come first:
// an encode row writes the input.npy the reference times (and the codes our
// decode rows read; the reference decodes its own encode of input.npy), and
// reports the length, `*input_samples`, the reference must find there.
// Returns the number of failures.
int MeasureRows(const std::string& preset, const std::string& op, int threads,
                const MatmulPeak& peak, const std::optional<std::string>& reference_python,
                int64_t* input_samples) {
  int failures = 0;
  std::vector<std::pair<std::string, RowResult>> rows;
  for (const std::string& precision : absl::GetFlag(FLAGS_precisions)) {
    absl::StatusOr<RowResult> row = RunRowInChild(preset, op, threads, precision);
    if (!row.ok()) {
      fprintf(stderr, "model_bench: %s\n", row.status().ToString().c_str());
      ++failures;
      continue;
    }
    if (row->samples > 0) *input_samples = row->samples;
    rows.emplace_back(precision, *row);
  }
  std::optional<RowResult> reference;
  if (reference_python.has_value()) {
    absl::StatusOr<RowResult> measured =
        *input_samples > 0 ? RunReferenceRow(*reference_python, preset, op, threads, *input_samples)
                           : absl::FailedPreconditionError(absl::StrCat(
                                 preset, " ", op, ": no encode row of this run wrote input.npy"));
    if (measured.ok()) {
      reference = *measured;
    } else {
      fprintf(stderr, "model_bench: reference: %s\n", measured.status().ToString().c_str());
      ++failures;
    }
  }
  for (const auto& [precision, row] : rows) {
    PrintRow(preset, op, threads, precision, row, peak, reference);
  }
  return failures;
}

int RunTable() {
  const std::string workdir = absl::GetFlag(FLAGS_workdir);
  std::optional<std::string> reference_python;
  if (absl::GetFlag(FLAGS_reference)) {
    absl::StatusOr<std::string> python = ReferencePython();
    if (!python.ok()) {
      fprintf(stderr, "model_bench: reference: %s\n", python.status().ToString().c_str());
      return 1;
    }
    reference_python = *python;
  }
  std::vector<int> thread_counts;
  for (const std::string& t : absl::GetFlag(FLAGS_threads)) thread_counts.push_back(std::stoi(t));
  std::map<int, MatmulPeak> peak;
  for (int threads : thread_counts) peak[threads] = MeasureMatmulPeak(threads);

  printf("Machine: %s. Audio: %g s of %s, median of %d runs.\n\n", MachineSummary().c_str(),
         absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_audio).c_str(),
         absl::GetFlag(FLAGS_runs));
  for (int threads : thread_counts) {
    printf(
        "Matrix-multiply peak (float32), %d thread(s): BLAS mm %.1f GFLOP/s, oneDNN conv "
        "%.1f GFLOP/s\n",
        threads, peak[threads].blas_gflops, peak[threads].onednn_gflops);
  }
  printf(
      "\n| preset | op | threads | precision | wall s | x real time | GFLOP per audio s | "
      "GFLOP/s | %% of matmul peak | peak RSS MB | reference wall s | ours / reference | "
      "reference peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  fflush(stdout);
  int failures = 0;
  for (const std::string& preset : absl::GetFlag(FLAGS_presets)) {
    absl::StatusOr<std::string> weights = testing::WriteManifestCheckpoint(preset, workdir);
    if (!weights.ok()) {
      fprintf(stderr, "model_bench: %s: %s\n", preset.c_str(), weights.status().ToString().c_str());
      ++failures;
      continue;
    }
    // What an earlier run left (of another --seconds) must not stand in for
    // this run's: only this run's encode rows write these.
    std::error_code ignored;
    std::filesystem::remove(WorkPath(preset, "input.npy"), ignored);
    std::filesystem::remove(WorkPath(preset, "codes.npz"), ignored);
    int64_t input_samples = 0;
    for (const char* op : {"encode", "decode"}) {
      for (int threads : thread_counts) {
        failures +=
            MeasureRows(preset, op, threads, peak[threads], reference_python, &input_samples);
      }
    }
  }
  return failures == 0 ? 0 : 1;
}

int RunOneRow(const std::string& spec) {
  if (const absl::Status cache = InstallCpuBlockCache(absl::GetFlag(FLAGS_cpu_block_cache_mb));
      !cache.ok()) {
    fprintf(stderr, "model_bench: --cpu_block_cache_mb: %s\n", cache.ToString().c_str());
    return 2;
  }
  const std::vector<std::string> parts = absl::StrSplit(spec, ':');
  if (parts.size() != 4) return 2;
  absl::StatusOr<RowResult> row = RunRow(parts[0], parts[1], std::stoi(parts[2]), parts[3]);
  if (!row.ok()) {
    fprintf(stderr, "model_bench: %s %s: %s\n", parts[0].c_str(), parts[1].c_str(),
            row.status().ToString().c_str());
    return 1;
  }
  printf("%.6f %.0f %.1f %lld\n", row->median_seconds, row->flops, row->peak_rss_mb,
         static_cast<long long>(row->samples));
  return 0;
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string row = absl::GetFlag(FLAGS_row);
  return row.empty() ? codec::bench::RunTable() : codec::bench::RunOneRow(row);
}
