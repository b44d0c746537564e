#include "server/model_registry.h"

#include <malloc.h>

#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"

namespace codec::server {

struct ModelLease::Entry {
  ModelInfo info;
  std::shared_ptr<CodecBackend> backend;
  std::unique_ptr<DynCodecProvider> provider;
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

ModelLease::ModelLease(ModelRegistry* registry, std::shared_ptr<Entry> entry)
    : registry_(registry), entry_(std::move(entry)), provider_(entry_->provider.get()) {}

ModelLease::ModelLease(ModelLease&& other) noexcept
    : registry_(other.registry_), entry_(std::move(other.entry_)), provider_(other.provider_) {}

ModelLease::~ModelLease() {
  if (entry_) registry_->Release(*entry_);
}

ModelRegistry::ModelRegistry(std::string model_repository, BackendFactory factory,
                             int max_models)
    : repository_(std::move(model_repository)),
      factory_(std::move(factory)),
      max_models_(max_models) {}

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

absl::Status ModelRegistry::Load(BackendSpec spec) {
  if (spec.id.empty()) spec.id = spec.model;
  if (spec.id.empty()) return absl::InvalidArgumentError("Load needs a model id or preset");
  absl::StatusOr<std::string> weights = repository_.Resolve(spec.weights);
  if (!weights.ok()) return weights.status();
  spec.weights = *weights;

  std::shared_ptr<Entry> entry;
  {
    absl::MutexLock lock(&mutex_);
    auto it = entries_.find(spec.id);
    if (it != entries_.end()) {
      entry = it->second;
      auto settled = [&entry]() { return entry->info.state != ModelState::kLoading; };
      mutex_.Await(absl::Condition(&settled));
      if (entry->info.state == ModelState::kReady) return absl::OkStatus();
      if (entry->info.state == ModelState::kUnloading) {
        return absl::FailedPreconditionError(
            absl::StrCat("model '", spec.id, "' is unloading; load it again afterwards"));
      }
    }
    if (max_models_ > 0) {
      int held = 0;
      for (const auto& [id, other] : entries_) {
        held += other->info.state == ModelState::kReady ||
                other->info.state == ModelState::kLoading ||
                other->info.state == ModelState::kUnloading;
      }
      if (held >= max_models_) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the server holds its most models (", max_models_, "); unload one first"));
      }
    }
    if (entry == nullptr) {
      entry = std::make_shared<Entry>();
      entries_[spec.id] = entry;
    }
    entry->info.id = spec.id;
    entry->info.spec = spec;
    entry->info.state = ModelState::kLoading;
    entry->info.error = absl::OkStatus();
  }

  absl::StatusOr<std::shared_ptr<CodecBackend>> backend = Build(spec);
  if (!backend.ok()) {
    fprintf(stderr, "codec_server: loading model '%s' failed: %s\n",
            absl::CHexEscape(spec.id).c_str(),
            absl::CHexEscape(backend.status().ToString()).c_str());
  }
  const absl::Status status = repository_.Redact(backend.status());

  absl::MutexLock lock(&mutex_);
  if (status.ok()) {
    entry->backend = *backend;
    entry->provider = std::make_unique<DynCodecProvider>(entry->backend);
    entry->info.description = entry->backend->description();
    entry->info.state = ModelState::kReady;
  } else {
    entry->info.state = ModelState::kFailed;
    entry->info.error = status;
  }
  return status;
}

absl::Status ModelRegistry::Unload(const std::string& id, absl::Time deadline) {
  std::shared_ptr<Entry> entry;
  std::shared_ptr<CodecBackend> backend;
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
    backend = std::move(entry->backend);
    entry->provider.reset();
  }
  // No lease remains: free the weights outside the lock, then say so.
  const absl::Status status = backend ? backend->Unload() : absl::OkStatus();
  backend.reset();
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
  ++entry->leases;
  return ModelLease(this, entry);
}

void ModelRegistry::Release(Entry& entry) {
  absl::MutexLock lock(&mutex_);
  --entry.leases;
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
  info.memory_bytes = entry.backend ? entry.backend->MemoryBytes() : 0;
  return info;
}

}  // namespace codec::server
