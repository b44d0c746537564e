#ifndef SERVER_MODEL_REGISTRY_H_
#define SERVER_MODEL_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "backends/codec_factory.h"
#include "backends/core/dyn_codec_provider.h"
#include "server/model_repository.h"

namespace codec::server {

enum class ModelState { kLoading, kReady, kUnloading, kUnloaded, kFailed };

const char* ModelStateName(ModelState state);

// What the registry knows about one model.
struct ModelInfo {
  std::string id;
  ModelState state = ModelState::kLoading;
  absl::Status error;  // Why it FAILED.
  BackendSpec spec;    // Weights resolved under the model repository.
  CodecDescription description;
  int64_t memory_bytes = 0;  // Weights held; 0 unless READY or UNLOADING.
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

  const DynCodecProvider& provider() const { return *provider_; }

 private:
  friend class ModelRegistry;
  struct Entry;
  ModelLease(ModelRegistry* registry, std::shared_ptr<Entry> entry);

  ModelRegistry* registry_;
  std::shared_ptr<Entry> entry_;
  const DynCodecProvider* provider_;
};

// The registry of DynCodecProviders a server hosts, with their lifecycle.
//
// Thread-safe. Load of an id already loading waits for that load and shares
// its result (one load); Load of a READY id is a no-op; Load of a FAILED or
// UNLOADED id loads it again; a load that fails in any way (an error, an
// exception, memory running out) leaves the id FAILED with its error, never
// LOADING. Unload stops new leases at once, waits for the leases in flight,
// then frees the weights; the id stays listed as UNLOADED.
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
                         int max_models = 0);
  ~ModelRegistry();

  // Registers `spec.id` and loads it, blocking until loaded or failed.
  // INVALID_ARGUMENT for an empty id, ModelRepository::Resolve's errors for
  // the weights path, the backend's own error when loading fails. Errors
  // name paths as the caller did, never by the server's location.
  absl::Status Load(BackendSpec spec);
  // NOT_FOUND for an unknown id; OK (nothing to do) for an UNLOADED one.
  // DEADLINE_EXCEEDED when leases are still held at `deadline`: the model
  // then stays READY.
  absl::Status Unload(const std::string& id, absl::Time deadline = absl::InfiniteFuture());

  // A lease on a READY model: NOT_FOUND for an unknown id,
  // FAILED_PRECONDITION (naming the state and any load error) otherwise.
  absl::StatusOr<ModelLease> Acquire(const std::string& id);

  std::vector<ModelInfo> List() const;
  absl::StatusOr<ModelInfo> Get(const std::string& id) const;

 private:
  friend class ModelLease;
  using Entry = ModelLease::Entry;

  // Builds and loads the backend; exceptions become statuses.
  absl::StatusOr<std::shared_ptr<CodecBackend>> Build(const BackendSpec& spec) const;
  void Release(Entry& entry);
  ModelInfo Snapshot(const Entry& entry) const ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  const ModelRepository repository_;
  const BackendFactory factory_;
  const int max_models_;
  mutable absl::Mutex mutex_;
  std::map<std::string, std::shared_ptr<Entry>> entries_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace codec::server

#endif  // SERVER_MODEL_REGISTRY_H_
