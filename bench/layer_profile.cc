#include "bench/layer_profile.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cstring>
#include <memory>

namespace codec::bench {
namespace {

using Clock = std::chrono::steady_clock;

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

}  // namespace codec::bench
