#ifndef SERVER_RPC_MODEL_SERVICE_H_
#define SERVER_RPC_MODEL_SERVICE_H_

#include "codec/v1/codec.grpc.pb.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/access_policy.h"
#include "server/serving/model_registry.h"

namespace codec::server {

// The codec.v1 value of `state`. codec.v1 names each state as the registry
// does (ModelStateName) after the enum's prefix, so the names are written
// once; MODEL_STATE_UNSPECIFIED for a state codec.v1 lacks.
v1::ModelState ModelStateToProto(ModelState state);

// Whether a listener's ModelService may Load and Unload: a data listener
// does not when the server has a separate admin listener.
enum class Administration { kServed, kElsewhere };

// codec.v1.ModelService: Load / Unload / ListModels / GetModel /
// ListDevices over the registry, each call checked against `access`.
class ModelServiceImpl final : public v1::ModelService::Service {
 public:
  // `metrics` (optional) counts each Load and Unload; it must outlive the
  // service.
  ModelServiceImpl(ModelRegistry& registry, AccessPolicy access, Administration administration,
                   ServerMetrics* metrics = nullptr)
      : registry_(registry),
        access_(std::move(access)),
        administration_(administration),
        metrics_(metrics) {}

  grpc::Status Load(grpc::ServerContext* context, const v1::LoadRequest* request,
                    v1::LoadResponse* response) override;
  grpc::Status Unload(grpc::ServerContext* context, const v1::UnloadRequest* request,
                      v1::UnloadResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::ModelInfo* response) override;
  grpc::Status ListDevices(grpc::ServerContext* context, const v1::ListDevicesRequest* request,
                           v1::ListDevicesResponse* response) override;

 private:
  // OK when the call may Load or Unload here.
  grpc::Status CheckAdministration(const grpc::ServerContext& context) const;

  ModelRegistry& registry_;
  const AccessPolicy access_;
  const Administration administration_;
  ServerMetrics* const metrics_;
};

// The registry's view of a model as the API message.
v1::ModelInfo ToProto(const ModelInfo& info);

}  // namespace codec::server

#endif  // SERVER_RPC_MODEL_SERVICE_H_
