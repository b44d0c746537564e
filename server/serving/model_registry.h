#ifndef SERVER_SERVING_MODEL_REGISTRY_H_
#define SERVER_SERVING_MODEL_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "backends/core/dyn_codec_provider.h"
#include "backends/factory/codec_factory.h"
#include "server/observability/server_metrics.h"
#include "server/serving/device_pool.h"
#include "server/serving/model_repository.h"
#include "server/serving/step_executor.h"

namespace codec::server {

enum class ModelState { kLoading, kReady, kUnloading, kUnloaded, kFailed };

// Every state, for those that report each (metrics, codec.v1's names).
inline constexpr ModelState kModelStates[] = {ModelState::kLoading, ModelState::kReady,
                                              ModelState::kUnloading, ModelState::kUnloaded,
                                              ModelState::kFailed};

// "LOADING", "READY", ...: the one place the states are named.
const char* ModelStateName(ModelState state);

// One copy of a model on one device.
struct ReplicaInfo {
  std::string device;
  int64_t memory_bytes = 0;  // Weights held.
  int streams = 0;           // Streams using it now.
  StepExecutor::Stats steps;
};

// What the registry knows about one model.
struct ModelInfo {
  std::string id;
  ModelState state = ModelState::kLoading;
  absl::Status error;  // Why it FAILED.
  BackendSpec spec;    // Weights resolved under the model repository.
  CodecDescription description;
  int64_t memory_bytes = 0;           // Weights held; 0 unless READY or UNLOADING.
  std::vector<ReplicaInfo> replicas;  // When READY or UNLOADING.
};

// What the models of a registry hold on one device of its pool.
struct DeviceLoad {
  const DevicePool::Device* device = nullptr;
  std::vector<std::string> models;  // Ids with a replica there.
  int64_t memory_bytes = 0;         // Their weights.
  int streams = 0;
  int queued_steps = 0;
};

// Where a registry runs its models, and how their steps are batched.
struct ServingOptions {
  // Null: one CPU device with no bound on parallel passes.
  std::shared_ptr<const DevicePool> devices;
  StepExecutor::Options executor;
  // Optional: counts each replica's batches; must outlive the registry.
  ServerMetrics* metrics = nullptr;
};

class ModelRegistry;

// Keeps one READY model in use: Unload waits until every lease on the model
// is gone, so a request holding a lease is never cut off. A lease must not
// outlive its registry.
class ModelLease {
 public:
  ModelLease(ModelLease&& other) noexcept;
  ModelLease& operator=(ModelLease&&) = delete;
  ~ModelLease();

  const DynCodecProvider& provider() const;
  // Runs the steps of the lease's streams, batched with other streams'.
  StepExecutor& executor() const;
  // The device of the replica this lease uses.
  const std::string& device() const;

 private:
  friend class ModelRegistry;
  struct Entry;
  struct Replica;
  ModelLease(ModelRegistry* registry, std::shared_ptr<Entry> entry, Replica* replica);

  ModelRegistry* registry_;
  std::shared_ptr<Entry> entry_;
  Replica* replica_;
};

// The registry of DynCodecProviders a server hosts, with their lifecycle.
//
// Thread-safe. Load of an id already loading waits for that load and shares
// its result (one load); Load of a READY id is a no-op; Load of a FAILED or
// UNLOADED id loads it again; a load that fails in any way (an error, an
// exception, memory running out) leaves the id FAILED with its error, never
// LOADING. Unload stops new leases at once, waits for the leases in flight,
// then frees the weights; the id stays listed as UNLOADED.
//
// A model has one replica per device it was loaded on, each with its own
// weights and StepExecutor; a lease takes the replica with the fewest
// streams.
class ModelRegistry {
 public:
  using BackendFactory =
      std::function<absl::StatusOr<std::shared_ptr<CodecBackend>>(const BackendSpec&)>;

  // Weights paths in Load specs are relative to `model_repository` and
  // confined to it (see ModelRepository; an empty repository allows no
  // weights). `factory` builds backends (CreateBackend by default; tests
  // inject their own). At most `max_models` ids hold or load weights at once
  // (LOADING, READY or UNLOADING; 0: no bound); a Load beyond it is
  // RESOURCE_EXHAUSTED.
  explicit ModelRegistry(std::string model_repository, BackendFactory factory = CreateBackend,
                         int max_models = 0, ServingOptions serving = {});
  ~ModelRegistry();

  // Registers `spec.id` and loads it on `devices` (DevicePool::Resolve's
  // names; empty: the device whose models hold the least memory), blocking
  // until loaded or failed. INVALID_ARGUMENT for an empty id, Resolve's
  // errors for the devices, ModelRepository::Resolve's for the weights
  // path, the backend's own error when loading fails. Errors name paths as
  // the caller did, never by the server's location. A READY id stays where
  // it is (unload it to move it).
  absl::Status Load(BackendSpec spec, const std::string& devices = "");
  // NOT_FOUND for an unknown id; OK (nothing to do) for an UNLOADED one.
  // DEADLINE_EXCEEDED when leases are still held at `deadline`: the model
  // then stays READY.
  absl::Status Unload(const std::string& id, absl::Time deadline = absl::InfiniteFuture());

  // A lease on a READY model: NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION (naming the state and any load error) otherwise.
  absl::StatusOr<ModelLease> Acquire(const std::string& id);

  std::vector<ModelInfo> List() const;
  absl::StatusOr<ModelInfo> Get(const std::string& id) const;
  // Every device of the pool, in its order, with what the models hold there.
  std::vector<DeviceLoad> Devices() const;

 private:
  friend class ModelLease;
  using Entry = ModelLease::Entry;
  using Replica = ModelLease::Replica;

  // Claims `spec.id` for a load: its entry, now LOADING, or null when the
  // model is READY already; waits out another load of the same id. Places
  // the load on the least loaded device when `placement` names none.
  absl::StatusOr<std::shared_ptr<Entry>> Admit(const BackendSpec& spec,
                                               std::vector<const DevicePool::Device*>& placement)
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Ids holding or loading weights (LOADING, READY or UNLOADING).
  int HeldModels() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // A replica of `spec` on each device of `placement`, or the first
  // device's error (repository paths redacted).
  absl::StatusOr<std::vector<std::unique_ptr<Replica>>> BuildReplicas(
      BackendSpec spec, const std::vector<const DevicePool::Device*>& placement) const;
  // Builds and loads the backend; exceptions become statuses.
  absl::StatusOr<std::shared_ptr<CodecBackend>> Build(const BackendSpec& spec) const;
  void Release(Entry& entry, Replica& replica);
  ModelInfo Snapshot(const Entry& entry) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  std::vector<DeviceLoad> DeviceLoads() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // The device whose replicas hold the least memory.
  const DevicePool::Device* LeastLoaded() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const ModelRepository repository_;
  const BackendFactory factory_;
  const int max_models_;
  const ServingOptions serving_;
  mutable absl::Mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace codec::server

#endif  // SERVER_SERVING_MODEL_REGISTRY_H_
