#ifndef BACKENDS_RUNTIME_LOADED_MODEL_H_
#define BACKENDS_RUNTIME_LOADED_MODEL_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace codec {

// The load/unload state machine shared by every backend.
//
// Holds an immutable, shared `Model` once loaded. Load() runs the factory at
// most once even under concurrent first calls (later callers wait and see its
// result); Unload() drops the reference, so the weights are freed when the
// last in-flight call that took a reference via Get() returns.
template <typename Model>
class LoadedModel {
 public:
  using Factory = std::function<absl::StatusOr<std::shared_ptr<const Model>>()>;

  absl::Status Load(const Factory& factory) ABSL_LOCKS_EXCLUDED(load_mutex_, mutex_) {
    // Held through the factory, so that one load runs and the others wait.
    absl::MutexLock load_lock(&load_mutex_);
    if (Get() != nullptr) return absl::OkStatus();
    absl::StatusOr<std::shared_ptr<const Model>> model = factory();
    if (!model.ok()) return model.status();
    absl::MutexLock lock(&mutex_);
    model_ = *std::move(model);
    return absl::OkStatus();
  }

  void Unload() ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    model_.reset();
  }

  // The loaded model, or nullptr.
  std::shared_ptr<const Model> Get() const ABSL_LOCKS_EXCLUDED(mutex_) {
    absl::MutexLock lock(&mutex_);
    return model_;
  }

  // The loaded model, or FAILED_PRECONDITION naming `id`.
  absl::StatusOr<std::shared_ptr<const Model>> GetOrError(const std::string& id) const {
    std::shared_ptr<const Model> model = Get();
    if (model == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("model '", id, "' is not loaded"));
    }
    return model;
  }

 private:
  absl::Mutex load_mutex_ ABSL_ACQUIRED_BEFORE(mutex_);  // Serialises loads.
  mutable absl::Mutex mutex_;
  std::shared_ptr<const Model> model_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace codec

#endif  // BACKENDS_RUNTIME_LOADED_MODEL_H_
