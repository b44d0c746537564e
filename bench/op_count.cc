#include "bench/op_count.h"

#include <ATen/ATen.h>

#include <cstring>
#include <memory>

namespace codec::bench {
namespace {

thread_local OpCount::Counts tally;
thread_local int depth = 0;
// Whether the outermost operation running is a read our code asked for.
thread_local bool asked_by_us = false;

bool Named(const at::RecordFunction& fn, const char* name) {
  return std::strcmp(fn.name(), name) == 0;
}

// copy_(self, src) into host memory from a device.
bool CopiesToHost(const at::RecordFunction& fn) {
  if (!Named(fn, "aten::copy_")) return false;
  const auto inputs = fn.inputs();
  return inputs.size() >= 2 && inputs[0].isTensor() && inputs[1].isTensor() &&
         inputs[0].toTensor().is_cpu() && !inputs[1].toTensor().is_cpu();
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  ++tally.all;
  ++tally.all_by_name[fn.name()];
  const bool outermost = depth++ == 0;
  if (outermost) {
    ++tally.outermost;
    ++tally.outermost_by_name[fn.name()];
    asked_by_us = Named(fn, "aten::item") || Named(fn, "aten::_local_scalar_dense");
  }
  if (Named(fn, "aten::_local_scalar_dense")) {
    ++(asked_by_us ? tally.our_scalar_reads : tally.libtorch_scalar_reads);
  }
  if (Named(fn, "codec::download")) ++tally.downloads;
  if (CopiesToHost(fn)) ++tally.device_to_host_copies;
  return nullptr;
}

void OnEnd(const at::RecordFunction&, at::ObserverContext*) { --depth; }

}  // namespace

OpCount::OpCount() {
  tally = Counts();
  depth = 0;
  handle_ =
      at::addThreadLocalCallback(at::RecordFunctionCallback(&OnStart, &OnEnd).needsInputs(true));
}

OpCount::~OpCount() { at::removeCallback(handle_); }

OpCount::Counts OpCount::counts() const { return tally; }

}  // namespace codec::bench
