#include "server/rpc/model_service.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "backends/runtime/compute_device.h"
#include "server/observability/request_log.h"
#include "server/rpc/grpc_status.h"

namespace codec::server {
namespace {

// The call's deadline; none (gRPC's far future) is absl::InfiniteFuture.
absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const auto deadline = context.deadline();
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

}  // namespace

v1::ModelState ModelStateToProto(ModelState state) {
  v1::ModelState proto = v1::MODEL_STATE_UNSPECIFIED;
  v1::ModelState_Parse(absl::StrCat("MODEL_STATE_", ModelStateName(state)), &proto);
  return proto;
}

v1::ModelInfo ToProto(const ModelInfo& info) {
  v1::ModelInfo out;
  out.set_model_id(info.id);
  out.set_state(ModelStateToProto(info.state));
  if (!info.error.ok()) out.set_error(info.error.ToString());
  std::vector<std::string> devices;
  for (const ReplicaInfo& replica : info.replicas) {
    devices.push_back(replica.device);
    v1::ModelReplica* r = out.add_replicas();
    r->set_device(replica.device);
    r->set_memory_bytes(static_cast<uint64_t>(replica.memory_bytes));
    r->set_streams(static_cast<uint32_t>(replica.streams));
    r->set_queued_steps(static_cast<uint32_t>(replica.steps.queued));
    r->set_batches(static_cast<uint64_t>(replica.steps.batches));
    r->set_batched_steps(static_cast<uint64_t>(replica.steps.pushes));
  }
  out.set_device(absl::StrJoin(devices, ","));
  out.set_memory_bytes(static_cast<uint64_t>(info.memory_bytes));
  const CodecDescription& d = info.description;
  v1::ModelDescription* desc = out.mutable_description();
  desc->set_family(d.family);
  desc->set_sample_rate(d.sample_rate);
  desc->set_channels(d.channels);
  desc->set_hop_length(d.hop_length);
  desc->set_codebook_size(static_cast<uint32_t>(d.codebook_size));
  desc->mutable_codebooks_per_level()->Add(d.codebooks_per_level.begin(),
                                           d.codebooks_per_level.end());
  desc->mutable_frame_rates()->Add(d.frame_rates.begin(), d.frame_rates.end());
  desc->mutable_level_strides()->Add(d.level_strides.begin(), d.level_strides.end());
  desc->mutable_bandwidths_kbps()->Add(d.bandwidths_kbps.begin(), d.bandwidths_kbps.end());
  desc->set_has_noise(d.has_noise);
  desc->set_segment_length(d.segment_length);
  desc->set_has_scales(d.has_scales);
  desc->set_encode_lookahead_samples(static_cast<uint64_t>(d.encode_lookahead_samples));
  desc->set_decode_lookahead_frames(static_cast<uint64_t>(d.decode_lookahead_frames));
  return out;
}

grpc::Status ModelServiceImpl::Load(grpc::ServerContext* context, const v1::LoadRequest* request,
                                    v1::LoadResponse* response) {
  RequestLog log("Load", context, metrics_);
  log.set_model(request->model_id());
  log.add_detail("preset", request->preset());
  log.add_detail("weights", request->weights());
  if (grpc::Status allowed = CheckAdministration(*context); !allowed.ok()) {
    return log.Finish(allowed);
  }
  log.add_detail("device", request->device());
  BackendSpec spec{
      .id = request->model_id(), .model = request->preset(), .weights = request->weights()};
  const absl::Status loaded = registry_.Load(spec, request->device());
  absl::StatusOr<ModelInfo> info = registry_.Get(ModelIdOf(spec));
  if (info.ok()) *response->mutable_model() = ToProto(*info);
  return log.Finish(ToGrpc(loaded));
}

grpc::Status ModelServiceImpl::Unload(grpc::ServerContext* context,
                                      const v1::UnloadRequest* request, v1::UnloadResponse*) {
  RequestLog log("Unload", context, metrics_);
  log.set_model(request->model_id());
  if (grpc::Status allowed = CheckAdministration(*context); !allowed.ok()) {
    return log.Finish(allowed);
  }
  return log.Finish(ToGrpc(registry_.Unload(request->model_id(), DeadlineOf(*context))));
}

grpc::Status ModelServiceImpl::CheckAdministration(const grpc::ServerContext& context) const {
  if (administration_ == Administration::kElsewhere) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "Load and Unload are served on the admin listener only");
  }
  return access_.Check(context, AccessPolicy::Action::kAdminister);
}

grpc::Status ModelServiceImpl::ListModels(grpc::ServerContext* context,
                                          const v1::ListModelsRequest*,
                                          v1::ListModelsResponse* response) {
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return allowed;
  }
  for (const ModelInfo& info : registry_.List()) *response->add_models() = ToProto(info);
  return grpc::Status::OK;
}

grpc::Status ModelServiceImpl::GetModel(grpc::ServerContext* context,
                                        const v1::GetModelRequest* request,
                                        v1::ModelInfo* response) {
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return allowed;
  }
  absl::StatusOr<ModelInfo> info = registry_.Get(request->model_id());
  if (!info.ok()) return ToGrpc(info.status());
  *response = ToProto(*info);
  return grpc::Status::OK;
}

grpc::Status ModelServiceImpl::ListDevices(grpc::ServerContext* context,
                                           const v1::ListDevicesRequest*,
                                           v1::ListDevicesResponse* response) {
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return allowed;
  }
  for (const DeviceLoad& load : registry_.Devices()) {
    v1::DeviceInfo* device = response->add_devices();
    device->set_name(load.device->name);
    device->set_kind(load.device->is_cpu() ? "cpu" : "cuda");
    if (absl::StatusOr<DeviceMemory> memory = MemoryOf(load.device->torch_device); memory.ok()) {
      device->set_memory_total_bytes(static_cast<uint64_t>(memory->total_bytes));
      device->set_memory_free_bytes(static_cast<uint64_t>(memory->free_bytes));
    }
    device->set_model_memory_bytes(static_cast<uint64_t>(load.memory_bytes));
    for (const std::string& model : load.models) device->add_models(model);
    device->set_streams(static_cast<uint32_t>(load.streams));
    device->set_queued_steps(static_cast<uint32_t>(load.queued_steps));
  }
  return grpc::Status::OK;
}

}  // namespace codec::server
