#ifndef BACKENDS_CORE_STATUS_MACROS_H_
#define BACKENDS_CORE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Early-return helpers for absl::Status / absl::StatusOr, in the style used
// across Google code bases.

#define CODEC_STATUS_CONCAT_INNER(a, b) a##b
#define CODEC_STATUS_CONCAT(a, b) CODEC_STATUS_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the calling function
// when it is not OK.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    const absl::Status codec_status_ = (expr);     \
    if (!codec_status_.ok()) return codec_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL(CODEC_STATUS_CONCAT(codec_statusor_, __LINE__), lhs, rexpr)

#define ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                          \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // BACKENDS_CORE_STATUS_MACROS_H_
