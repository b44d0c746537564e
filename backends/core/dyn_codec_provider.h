#ifndef BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
#define BACKENDS_CORE_DYN_CODEC_PROVIDER_H_

#include <memory>
#include <utility>

#include "backends/core/codec_backend.h"
#include "backends/core/codec_backend_handle.h"

namespace codec {

// A type-erased, shared reference to any CodecBackend: what a registry holds.
// Copies share one backend; calls dispatch virtually.
class DynCodecProvider {
 public:
  explicit DynCodecProvider(std::shared_ptr<CodecBackend> backend)
      : backend_(std::move(backend)) {}

  template <typename B>
  explicit DynCodecProvider(const CodecBackendHandle<B>& handle)
      : backend_(handle.shared()) {}

  const std::string& id() const { return backend_->id(); }
  std::string_view provider_kind() const { return backend_->provider_kind(); }
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

  CodecBackend& backend() const { return *backend_; }

 private:
  std::shared_ptr<CodecBackend> backend_;
};

}  // namespace codec

#endif  // BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
