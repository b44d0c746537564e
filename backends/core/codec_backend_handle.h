#ifndef BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
#define BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_

#include <memory>
#include <type_traits>
#include <utility>

#include "backends/core/backend_ref.h"
#include "backends/core/codec_backend.h"

namespace codec {

// A typed, shared handle on one backend for in-process C++ callers.
//
// `B` is a concrete (final) backend class, so calls through the handle bind
// statically: no virtual dispatch. Copies share the same loaded backend.
template <typename B>
class CodecBackendHandle : public BackendRef<B> {
  static_assert(std::is_base_of<CodecBackend, B>::value,
                "CodecBackendHandle<B> needs B derived from CodecBackend");
  static_assert(std::is_final<B>::value, "CodecBackendHandle<B> needs a final backend class");

 public:
  using BackendRef<B>::BackendRef;

  template <typename... Args>
  static CodecBackendHandle Create(Args&&... args) {
    return CodecBackendHandle(std::make_shared<B>(std::forward<Args>(args)...));
  }
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
