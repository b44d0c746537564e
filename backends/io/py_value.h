#ifndef BACKENDS_IO_PY_VALUE_H_
#define BACKENDS_IO_PY_VALUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace codec::io {

struct PyValue;
using PyValuePtr = std::shared_ptr<PyValue>;

// A tensor reference from a torch.save pickle: which storage record holds
// the data, and the view (offset, sizes, strides in elements) over it.
struct PyTensorRef {
  std::string storage_key;    // Record name under "<archive>/data/".
  std::string storage_dtype;  // Storage class, e.g. "FloatStorage".
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

// The values a checkpoint pickle may hold. Only plain data is representable:
// the unpickler builds no arbitrary objects.
struct PyValue {
  // kGlobal (an allowed class such as torch.FloatStorage, its dotted name in
  // string_value) and kStorage (a storage record, in `tensor` with empty
  // sizes) only occur while a tensor is being rebuilt.
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kTuple,
    kDict,
    kTensor,
    kGlobal,
    kStorage
  };

  Kind kind = Kind::kNone;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string string_value;
  std::vector<PyValuePtr> items;                           // kList, kTuple.
  std::vector<std::pair<PyValuePtr, PyValuePtr>> entries;  // kDict, in order.
  PyTensorRef tensor;                                      // kTensor.

  // Kept by the unpickler, which bounds the nesting and forbids cycles: the
  // longest chain of containers from this value down (1 for a leaf), and
  // whether it already sits inside another value (then it can no longer
  // change, so `depth` is final).
  int depth = 1;
  bool nested = false;

  // The value stored under string key `key` of a dict, or nullptr.
  PyValuePtr Get(const std::string& key) const;
};

}  // namespace codec::io

#endif  // BACKENDS_IO_PY_VALUE_H_
