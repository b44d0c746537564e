#include "server/rpc/codec_service.h"

#include "server/rpc/stream_call.h"
#include "server/rpc/stream_directions.h"

namespace codec::server {

grpc::Status CodecServiceImpl::Encode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) {
  return StreamCall<EncodeDirection>(Services(), context, stream).Run();
}

grpc::Status CodecServiceImpl::Decode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) {
  return StreamCall<DecodeDirection>(Services(), context, stream).Run();
}

StreamServices CodecServiceImpl::Services() {
  return StreamServices{.registry = registry_,
                        .limits = limits_,
                        .access = access_,
                        .metrics = metrics_,
                        .memory = memory_,
                        .idle = idle_};
}

}  // namespace codec::server
