#include "backends/io/py_value.h"

namespace codec::io {

PyValuePtr PyValue::Get(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->string_value == key) return v;
  }
  return nullptr;
}

}  // namespace codec::io
