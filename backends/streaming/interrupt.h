#ifndef BACKENDS_STREAMING_INTERRUPT_H_
#define BACKENDS_STREAMING_INTERRUPT_H_

#include <c10/util/Exception.h>

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "backends/core/codec_options.h"

namespace codec::nn {

// Network forward passes have no way to return early, so a stop request
// travels as an exception from the layer that polls it to
// RunInterruptible, which turns it back into a status.
//
// Layers call PollInterrupt() between their heavy operations; it is a no-op
// unless the calling thread runs inside RunInterruptible with a StopCheck.
void PollInterrupt();

namespace internal {

// Installs `check` as the calling thread's StopCheck for its lifetime.
class InterruptScope {
 public:
  explicit InterruptScope(const StopCheck* check);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  const StopCheck* previous_;
};

// StatusOr<T> for a plain T; Status and StatusOr<T> as they are.
template <typename T>
struct AsStatusOr {
  using type = absl::StatusOr<T>;
};
template <typename T>
struct AsStatusOr<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};
template <>
struct AsStatusOr<absl::Status> {
  using type = absl::Status;
};

// What PollInterrupt throws: the StopCheck's error.
class Interrupted : public std::exception {
 public:
  explicit Interrupted(absl::Status status) : status_(std::move(status)) {}
  const char* what() const noexcept override { return "interrupted"; }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

}  // namespace internal

// Runs `work` (returning T or absl::StatusOr<T>) with `stop` polled by the
// layers it runs, and returns its result as absl::StatusOr<T>: the
// StopCheck's error when it stopped the work, RESOURCE_EXHAUSTED when
// libtorch ran out of memory, INTERNAL for any other libtorch error (so a
// bad tensor never takes the server down).
template <typename Work>
auto RunInterruptible(const StopCheck& stop, Work&& work) {
  using Out = typename internal::AsStatusOr<std::invoke_result_t<Work>>::type;
  internal::InterruptScope scope(stop ? &stop : nullptr);
  try {
    return Out(work());
  } catch (const internal::Interrupted& interrupted) {
    return Out(interrupted.status());
  } catch (const std::bad_alloc&) {
    return Out(absl::ResourceExhaustedError("out of memory"));
  } catch (const c10::Error& error) {
    return Out(absl::InternalError(absl::StrCat("libtorch: ", error.what_without_backtrace())));
  }
}

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_INTERRUPT_H_
