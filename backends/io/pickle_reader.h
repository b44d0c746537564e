#ifndef BACKENDS_IO_PICKLE_READER_H_
#define BACKENDS_IO_PICKLE_READER_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/io/py_value.h"

namespace codec::io {

// torch.save state dicts nest a few levels and hold a few values per tensor.
// The bounds keep a hostile pickle from exhausting the stack (values are
// freed recursively) or the memory.
inline constexpr int kMostPickleDepth = 64;
inline constexpr int64_t kMostPickleValues = int64_t{1} << 21;

// Unpickles the `data.pkl` record of a zip-format torch.save checkpoint.
//
// A strict subset of the pickle protocol (0-5 opcodes for plain data,
// memo, persistent ids) is accepted; the only callables honoured are
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
// _rebuild_parameter and the torch.*Storage classes, so loading a checkpoint
// can never construct arbitrary objects. Anything else is an UNIMPLEMENTED
// error naming the opcode or global; malformed input is DATA_LOSS (including
// a container that holds itself or changes after it was nested, which
// torch.save never writes). The work is bounded whatever the bytes: no
// recursion, and a pickle that nests deeper than kMostPickleDepth or holds
// more than kMostPickleValues values (marks and memo entries included) is
// RESOURCE_EXHAUSTED.
absl::StatusOr<PyValuePtr> UnpickleCheckpoint(const std::string& pickle);

}  // namespace codec::io

#endif  // BACKENDS_IO_PICKLE_READER_H_
