#include "backends/streaming/interrupt.h"

namespace codec::nn {
namespace {

thread_local const StopCheck* current_check = nullptr;

}  // namespace

void PollInterrupt() {
  if (current_check == nullptr) return;
  absl::Status status = (*current_check)();
  if (!status.ok()) throw internal::Interrupted(std::move(status));
}

namespace internal {

InterruptScope::InterruptScope(const StopCheck* check) : previous_(current_check) {
  current_check = check;
}

InterruptScope::~InterruptScope() { current_check = previous_; }

}  // namespace internal
}  // namespace codec::nn
