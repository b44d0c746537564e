#ifndef BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
#define BACKENDS_CORE_DYN_CODEC_PROVIDER_H_

#include <memory>
#include <utility>

#include "backends/core/backend_ref.h"
#include "backends/core/codec_backend_handle.h"

namespace codec {

// A type-erased, shared reference to any CodecBackend: what a registry
// holds. Copies share one backend; calls dispatch virtually.
class DynCodecProvider : public BackendRef<CodecBackend> {
 public:
  using BackendRef<CodecBackend>::BackendRef;

  template <typename B>
  explicit DynCodecProvider(const CodecBackendHandle<B>& handle)
      : BackendRef<CodecBackend>(handle.shared()) {}
};

}  // namespace codec

#endif  // BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
