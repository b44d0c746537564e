#ifndef BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
#define BACKENDS_CORE_DYN_CODEC_PROVIDER_H_

#include "backends/core/codec_backend.h"
#include "backends/core/codec_backend_handle.h"

namespace codec {

// A type-erased, shared handle on any CodecBackend: what a registry holds.
// Copies share one backend; calls dispatch virtually. A concrete backend's
// handle converts to it: DynCodecProvider provider(handle).
using DynCodecProvider = CodecBackendHandle<CodecBackend>;

}  // namespace codec

#endif  // BACKENDS_CORE_DYN_CODEC_PROVIDER_H_
