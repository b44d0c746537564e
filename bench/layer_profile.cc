#include "bench/layer_profile.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "bench/timing.h"

namespace codec::bench {
namespace {

thread_local std::map<std::string, double> seconds;
thread_local int depth = 0;

// The start of an outermost operator.
struct Started : at::ObserverContext {
  std::string kind;
  Clock::time_point start;
};

bool StartsWith(const char* name, const char* prefix) {
  return std::strncmp(name, prefix, std::strlen(prefix)) == 0;
}

std::string KindOf(const at::RecordFunction& fn) {
  const char* name = fn.name();
  if (StartsWith(name, "codec::")) return name + std::strlen("codec::");
  const bool conv = std::strcmp(name, "aten::conv1d") == 0 ||
                    std::strcmp(name, "aten::convolution") == 0 ||
                    std::strcmp(name, "aten::_convolution") == 0 ||
                    std::strcmp(name, "aten::mkldnn_convolution") == 0;
  const auto inputs = fn.inputs();
  if (conv && inputs.size() > 1 && inputs[0].isTensor() && inputs[1].isTensor()) {
    const at::Tensor& x = inputs[0].toTensor();
    const at::Tensor& weight = inputs[1].toTensor();
    if (weight.dim() == 3 && weight.size(1) == 1 && x.size(1) > 1) return "depthwise conv";
    if (weight.dim() == 3 && weight.size(2) == 1) return "1x1 conv";
    return "conv";
  }
  return StartsWith(name, "aten::") ? name + std::strlen("aten::") : name;
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  if (depth++ > 0) return nullptr;
  auto started = std::make_unique<Started>();
  started->kind = KindOf(fn);
  started->start = Clock::now();
  return started;
}

void OnEnd(const at::RecordFunction&, at::ObserverContext* context) {
  --depth;
  if (context == nullptr) return;
  const auto* started = static_cast<const Started*>(context);
  seconds[started->kind] += std::chrono::duration<double>(Clock::now() - started->start).count();
}

}  // namespace

LayerProfile::LayerProfile() {
  seconds.clear();
  depth = 0;
  handle_ =
      at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd).needsInputs(true));
}

LayerProfile::~LayerProfile() { at::removeCallback(handle_); }

std::map<std::string, double> LayerProfile::Seconds() const { return seconds; }

absl::Status PrintLayerProfile(const std::string& label,
                               const std::function<absl::Status()>& work) {
  std::map<std::string, double> by_kind;
  const Clock::time_point start = Clock::now();
  {
    LayerProfile profile;
    if (absl::Status status = work(); !status.ok()) return status;
    by_kind = profile.Seconds();
  }
  const double wall = SecondsSince(start);
  double in_operators = 0;
  for (const auto& [kind, s] : by_kind) in_operators += s;
  by_kind["(outside operators)"] = std::max(0.0, wall - in_operators);
  std::vector<std::pair<double, std::string>> by_time;
  for (const auto& [kind, s] : by_kind) by_time.emplace_back(s, kind);
  std::sort(by_time.rbegin(), by_time.rend());
  for (const auto& [s, kind] : by_time) {
    if (s < 0.005 * wall) continue;
    fprintf(stderr, "| %s | %s | %.3f | %.0f%% |\n", label.c_str(), kind.c_str(), s,
            100 * s / wall);
  }
  return absl::OkStatus();
}

}  // namespace codec::bench
