#ifndef SERVER_MODEL_SERVICE_H_
#define SERVER_MODEL_SERVICE_H_

#include "codec/v1/codec.grpc.pb.h"
#include "server/model_registry.h"

namespace codec::server {

// codec.v1.ModelService: Load / Unload / ListModels / GetModel over the
// registry. Models run on the CPU in this build; another device is
// INVALID_ARGUMENT.
class ModelServiceImpl final : public v1::ModelService::Service {
 public:
  explicit ModelServiceImpl(ModelRegistry& registry) : registry_(registry) {}

  grpc::Status Load(grpc::ServerContext* context, const v1::LoadRequest* request,
                    v1::LoadResponse* response) override;
  grpc::Status Unload(grpc::ServerContext* context, const v1::UnloadRequest* request,
                      v1::UnloadResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override;

 private:
  ModelRegistry& registry_;
};

// The registry's view of a model as the API message.
v1::ModelInfo ToProto(const ModelInfo& info);

}  // namespace codec::server

#endif  // SERVER_MODEL_SERVICE_H_
