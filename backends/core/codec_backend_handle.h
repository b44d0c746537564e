#ifndef BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
#define BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "backends/core/codec_backend.h"

namespace codec {

// A shared handle on one backend of static type `B`, forwarding the
// CodecBackend calls. Copies share one backend.
//
// `B` is either a concrete (final) backend class, so that calls bind
// statically (an in-process C++ caller that knows its codec), or
// CodecBackend itself, so that calls dispatch virtually: that handle is
// DynCodecProvider (dyn_codec_provider.h), what a registry holds.
template <typename B>
class CodecBackendHandle {
  static_assert(std::is_base_of<CodecBackend, B>::value,
                "CodecBackendHandle<B> needs B derived from CodecBackend");
  static_assert(std::is_final<B>::value || std::is_same<B, CodecBackend>::value,
                "CodecBackendHandle<B> needs a final backend class, or CodecBackend");

 public:
  explicit CodecBackendHandle(std::shared_ptr<B> backend) : backend_(std::move(backend)) {}

  // The same backend through a handle of a base type (a concrete backend's
  // handle as a DynCodecProvider).
  template <typename D,
            typename = std::enable_if_t<std::is_base_of<B, D>::value && !std::is_same<B, D>::value>>
  explicit CodecBackendHandle(const CodecBackendHandle<D>& handle) : backend_(handle.shared()) {}

  // A new backend of type B, made from B's constructor arguments.
  template <typename... Args>
  static CodecBackendHandle Create(Args&&... args) {
    return CodecBackendHandle(std::make_shared<B>(std::forward<Args>(args)...));
  }

  const std::string& id() const { return backend_->id(); }
  std::string_view provider_kind() const { return backend_->provider_kind(); }
  absl::Status Load() const { return backend_->Load(); }
  absl::Status Unload() const { return backend_->Unload(); }
  bool IsLoaded() const { return backend_->IsLoaded(); }
  int64_t MemoryBytes() const { return backend_->MemoryBytes(); }
  const CodecDescription& description() const { return backend_->description(); }

  absl::StatusOr<Codes> Encode(const Audio& audio, const EncodeOptions& options = {}) const {
    return backend_->Encode(audio, options);
  }
  absl::StatusOr<Audio> Decode(const Codes& codes, const DecodeOptions& options = {}) const {
    return backend_->Decode(codes, options);
  }
  absl::StatusOr<std::unique_ptr<EncodeStream>> OpenEncodeStream(
      const EncodeOptions& options = {}) const {
    return backend_->OpenEncodeStream(options);
  }
  absl::StatusOr<std::unique_ptr<DecodeStream>> OpenDecodeStream(const DecodeOptions& options = {},
                                                                 int64_t num_samples = 0) const {
    return backend_->OpenDecodeStream(options, num_samples);
  }

  B& backend() const { return *backend_; }
  const std::shared_ptr<B>& shared() const { return backend_; }

 private:
  std::shared_ptr<B> backend_;
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_BACKEND_HANDLE_H_
