#ifndef BACKENDS_CORE_BACKEND_REF_H_
#define BACKENDS_CORE_BACKEND_REF_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "backends/core/codec_backend.h"

namespace codec {

// A shared reference to a backend of static type `B`, forwarding the
// CodecBackend calls. Calls bind to B's overrides: statically when B is a
// final class (CodecBackendHandle), virtually when B is CodecBackend
// (DynCodecProvider). Copies share one backend.
template <typename B>
class BackendRef {
 public:
  explicit BackendRef(std::shared_ptr<B> backend) : backend_(std::move(backend)) {}

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

#endif  // BACKENDS_CORE_BACKEND_REF_H_
