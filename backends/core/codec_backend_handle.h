#ifndef BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
#define BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_

#include <memory>
#include <type_traits>
#include <utility>

#include "backends/core/codec_backend.h"

namespace codec {

// A typed, shared handle on one backend for in-process C++ callers.
//
// `B` is a concrete (final) backend class, so calls through the handle bind
// statically: no virtual dispatch. Copies share the same loaded backend.
template <typename B>
class CodecBackendHandle {
  static_assert(std::is_base_of<CodecBackend, B>::value,
                "CodecBackendHandle<B> needs B derived from CodecBackend");
  static_assert(std::is_final<B>::value,
                "CodecBackendHandle<B> needs a final backend class");

 public:
  explicit CodecBackendHandle(std::shared_ptr<B> backend)
      : backend_(std::move(backend)) {}

  template <typename... Args>
  static CodecBackendHandle Create(Args&&... args) {
    return CodecBackendHandle(std::make_shared<B>(std::forward<Args>(args)...));
  }

  const std::string& id() const { return backend_->id(); }
  absl::Status Load() const { return backend_->Load(); }
  absl::Status Unload() const { return backend_->Unload(); }
  bool IsLoaded() const { return backend_->IsLoaded(); }
  const CodecDescription& description() const { return backend_->description(); }

  absl::StatusOr<Codes> Encode(const Audio& audio,
                               const EncodeOptions& options = {}) const {
    return backend_->Encode(audio, options);
  }
  absl::StatusOr<Audio> Decode(const Codes& codes,
                               const DecodeOptions& options = {}) const {
    return backend_->Decode(codes, options);
  }

  B& backend() const { return *backend_; }
  // Shares ownership, e.g. to register the backend as a DynCodecProvider.
  std::shared_ptr<B> shared() const { return backend_; }

 private:
  std::shared_ptr<B> backend_;
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
