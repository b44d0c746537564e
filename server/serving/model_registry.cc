#include "server/serving/model_registry.h"

#include <malloc.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/core/status_macros.h"
#include "backends/runtime/compute_device.h"
#include "server/observability/server_log.h"

namespace codec::server {

// A model's weights on one device. Immutable once published in its entry,
// but for `leases`.
struct ModelLease::Replica {
  Replica(const DevicePool::Device* device, DynCodecProvider provider)
      : device(device), provider(std::move(provider)) {}

  const DevicePool::Device* device;
  const DynCodecProvider provider;
  std::unique_ptr<StepExecutor> executor;  // After provider: ends first.
  int leases = 0;                          // Guarded by the registry's mutex_.
};

// One id of the registry. Every field is guarded by the registry's mutex_
// (an annotation cannot name another class's member).
struct ModelLease::Entry {
  ModelInfo info;
  std::vector<std::unique_ptr<Replica>> replicas;
  int leases = 0;
};

const char* ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kLoading:
      return "LOADING";
    case ModelState::kReady:
      return "READY";
    case ModelState::kUnloading:
      return "UNLOADING";
    case ModelState::kFailed:
      return "FAILED";
    case ModelState::kUnloaded:
      return "UNLOADED";
  }
  return "UNKNOWN";
}

ModelLease::ModelLease(ModelRegistry* registry, std::shared_ptr<Entry> entry, Replica* replica)
    : registry_(registry), entry_(std::move(entry)), replica_(replica) {}

ModelLease::ModelLease(ModelLease&& other) noexcept
    : registry_(other.registry_), entry_(std::move(other.entry_)), replica_(other.replica_) {}

ModelLease::~ModelLease() {
  if (entry_) registry_->Release(*entry_, *replica_);
}

const DynCodecProvider& ModelLease::provider() const { return replica_->provider; }
StepExecutor& ModelLease::executor() const { return *replica_->executor; }
const std::string& ModelLease::device() const { return replica_->device->name; }

ModelRegistry::ModelRegistry(std::string model_repository, BackendFactory factory, int max_models,
                             ServingOptions serving)
    : repository_(std::move(model_repository)),
      factory_(std::move(factory)),
      max_models_(max_models),
      serving_{serving.devices ? std::move(serving.devices) : DevicePool::Cpu(0), serving.executor,
               serving.metrics} {}

ModelRegistry::~ModelRegistry() = default;

absl::StatusOr<std::shared_ptr<CodecBackend>> ModelRegistry::Build(const BackendSpec& spec) const {
  try {
    ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend, factory_(spec));
    RETURN_IF_ERROR(backend->Load());
    return backend;
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory loading the model");
  } catch (const std::exception& error) {
    return absl::InternalError(absl::StrCat("loading the model failed: ", error.what()));
  }
}

const DevicePool::Device* ModelRegistry::LeastLoaded() const {
  const std::vector<DeviceLoad> loads = DeviceLoads();
  return std::min_element(loads.begin(), loads.end(),
                          [](const DeviceLoad& a, const DeviceLoad& b) {
                            return a.memory_bytes < b.memory_bytes;
                          })
      ->device;
}

absl::Status ModelRegistry::Load(BackendSpec spec, const std::string& devices) {
  spec.id = ModelIdOf(spec);
  if (spec.id.empty()) return absl::InvalidArgumentError("Load needs a model id or preset");
  std::vector<const DevicePool::Device*> placement;
  if (!devices.empty()) {
    ASSIGN_OR_RETURN(std::vector<DevicePool::Device*> named, serving_.devices->Resolve(devices));
    placement.assign(named.begin(), named.end());
  }
  ASSIGN_OR_RETURN(spec.weights, repository_.Resolve(spec.weights));
  ASSIGN_OR_RETURN(std::shared_ptr<Entry> entry, Admit(spec, placement));
  if (entry == nullptr) return absl::OkStatus();  // READY already.
  absl::StatusOr<std::vector<std::unique_ptr<Replica>>> replicas = BuildReplicas(spec, placement);
  absl::MutexLock lock(&mutex_);
  if (replicas.ok()) {
    entry->replicas = *std::move(replicas);
    entry->info.description = entry->replicas.front()->provider.description();
    entry->info.state = ModelState::kReady;
    return absl::OkStatus();
  }
  entry->info.state = ModelState::kFailed;
  entry->info.error = replicas.status();
  return replicas.status();
}

absl::StatusOr<std::shared_ptr<ModelRegistry::Entry>> ModelRegistry::Admit(
    const BackendSpec& spec, std::vector<const DevicePool::Device*>& placement) {
  absl::MutexLock lock(&mutex_);
  std::shared_ptr<Entry> entry;
  if (auto it = entries_.find(spec.id); it != entries_.end()) {
    entry = it->second;
    auto settled = [&entry]() { return entry->info.state != ModelState::kLoading; };
    mutex_.Await(absl::Condition(&settled));
    if (entry->info.state == ModelState::kReady) return nullptr;
    if (entry->info.state == ModelState::kUnloading) {
      return absl::FailedPreconditionError(
          absl::StrCat("model '", spec.id, "' is unloading; load it again afterwards"));
    }
  }
  if (max_models_ > 0 && HeldModels() >= max_models_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server holds its most models (", max_models_, "); unload one first"));
  }
  if (entry == nullptr) {
    entry = std::make_shared<Entry>();
    entries_[spec.id] = entry;
  }
  entry->info.id = spec.id;
  entry->info.spec = spec;
  entry->info.state = ModelState::kLoading;
  entry->info.error = absl::OkStatus();
  if (placement.empty()) placement.push_back(LeastLoaded());
  return entry;
}

int ModelRegistry::HeldModels() const {
  int held = 0;
  for (const auto& [id, entry] : entries_) {
    held += entry->info.state == ModelState::kReady || entry->info.state == ModelState::kLoading ||
            entry->info.state == ModelState::kUnloading;
  }
  return held;
}

absl::StatusOr<std::vector<std::unique_ptr<ModelRegistry::Replica>>> ModelRegistry::BuildReplicas(
    BackendSpec spec, const std::vector<const DevicePool::Device*>& placement) const {
  std::vector<std::unique_ptr<Replica>> replicas;
  for (const DevicePool::Device* device : placement) {
    spec.device = device->torch_device;
    absl::StatusOr<std::shared_ptr<CodecBackend>> backend = Build(spec);
    if (!backend.ok()) {
      LogEvent(absl::StrFormat("loading model '%s' on %s failed: %s", absl::CHexEscape(spec.id),
                               device->name, absl::CHexEscape(backend.status().ToString())));
      return repository_.Redact(backend.status());  // No lease holds the others yet.
    }
    auto replica = std::make_unique<Replica>(device, DynCodecProvider(*std::move(backend)));
    StepExecutor::Options executor = serving_.executor;
    if (serving_.metrics != nullptr) {
      executor.on_batch = serving_.metrics->BatchObserver(spec.id, device->name);
    }
    executor.thread_context = [device = spec.device] { return UseOwnStream(device); };
    replica->executor = std::make_unique<StepExecutor>(std::move(executor), *device->slots);
    replicas.push_back(std::move(replica));
  }
  return replicas;
}

absl::Status ModelRegistry::Unload(const std::string& id, absl::Time deadline) {
  std::shared_ptr<Entry> entry;
  std::vector<std::unique_ptr<Replica>> replicas;
  {
    absl::MutexLock lock(&mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
    entry = it->second;
    auto settled = [&entry]() { return entry->info.state != ModelState::kLoading; };
    mutex_.Await(absl::Condition(&settled));
    if (entry->info.state == ModelState::kUnloading) {
      return absl::FailedPreconditionError(absl::StrCat("model '", id, "' is already unloading"));
    }
    if (entry->info.state == ModelState::kUnloaded) return absl::OkStatus();
    entry->info.state = ModelState::kUnloading;
    auto drained = [&entry]() { return entry->leases == 0; };
    if (!mutex_.AwaitWithDeadline(absl::Condition(&drained), deadline)) {
      entry->info.state = ModelState::kReady;
      return absl::DeadlineExceededError(absl::StrCat("model '", id, "' is still used by ",
                                                      entry->leases, " stream(s); it stays READY"));
    }
    replicas = std::move(entry->replicas);
    entry->replicas.clear();
  }
  // No lease remains: end the executors and free the weights outside the
  // lock, then say so.
  absl::Status status;
  for (std::unique_ptr<Replica>& replica : replicas) {
    replica->executor.reset();
    status.Update(replica->provider.Unload());
  }
  replicas.clear();
  // glibc keeps freed heap pages for reuse; hand them back so the process
  // shrinks by the model's size, as an operator watching RSS expects.
  malloc_trim(0);
  absl::MutexLock lock(&mutex_);
  entry->info.state = ModelState::kUnloaded;
  entry->info.error = absl::OkStatus();
  return status;
}

absl::StatusOr<ModelLease> ModelRegistry::Acquire(const std::string& id) {
  absl::MutexLock lock(&mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
  const std::shared_ptr<Entry>& entry = it->second;
  if (entry->info.state != ModelState::kReady) {
    std::string message = absl::StrCat("model '", id, "' is ", ModelStateName(entry->info.state));
    if (!entry->info.error.ok()) absl::StrAppend(&message, ": ", entry->info.error.ToString());
    return absl::FailedPreconditionError(message);
  }
  Replica* replica =
      std::min_element(entry->replicas.begin(), entry->replicas.end(),
                       [](const auto& a, const auto& b) { return a->leases < b->leases; })
          ->get();
  ++entry->leases;
  ++replica->leases;
  return ModelLease(this, entry, replica);
}

void ModelRegistry::Release(Entry& entry, Replica& replica) {
  absl::MutexLock lock(&mutex_);
  --entry.leases;
  --replica.leases;
}

std::vector<ModelInfo> ModelRegistry::List() const {
  absl::MutexLock lock(&mutex_);
  std::vector<ModelInfo> models;
  for (const auto& [id, entry] : entries_) models.push_back(Snapshot(*entry));
  return models;
}

absl::StatusOr<ModelInfo> ModelRegistry::Get(const std::string& id) const {
  absl::MutexLock lock(&mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return absl::NotFoundError(absl::StrCat("no model '", id, "'"));
  return Snapshot(*it->second);
}

ModelInfo ModelRegistry::Snapshot(const Entry& entry) const {
  ModelInfo info = entry.info;
  info.memory_bytes = 0;
  for (const auto& replica : entry.replicas) {
    ReplicaInfo& out = info.replicas.emplace_back();
    out.device = replica->device->name;
    out.memory_bytes = replica->provider.MemoryBytes();
    out.streams = replica->leases;
    out.steps = replica->executor->stats();
    info.memory_bytes += out.memory_bytes;
  }
  return info;
}

std::vector<DeviceLoad> ModelRegistry::Devices() const {
  absl::MutexLock lock(&mutex_);
  return DeviceLoads();
}

std::vector<DeviceLoad> ModelRegistry::DeviceLoads() const {
  std::vector<DeviceLoad> loads;
  for (const auto& device : serving_.devices->devices()) {
    DeviceLoad& load = loads.emplace_back();
    load.device = device.get();
    for (const auto& [id, entry] : entries_) {
      for (const auto& replica : entry->replicas) {
        if (replica->device != device.get()) continue;
        load.models.push_back(id);
        load.memory_bytes += replica->provider.MemoryBytes();
        load.streams += replica->leases;
        load.queued_steps += replica->executor->stats().queued;
      }
    }
  }
  return loads;
}

}  // namespace codec::server
