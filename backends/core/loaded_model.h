#ifndef BACKENDS_CORE_LOADED_MODEL_H_
#define BACKENDS_CORE_LOADED_MODEL_H_

#include <functional>
#include <memory>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

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

  absl::Status Load(const Factory& factory) {
    std::lock_guard<std::mutex> load_lock(load_mutex_);
    if (Get() != nullptr) return absl::OkStatus();
    absl::StatusOr<std::shared_ptr<const Model>> model = factory();
    if (!model.ok()) return model.status();
    std::lock_guard<std::mutex> lock(mutex_);
    model_ = *std::move(model);
    return absl::OkStatus();
  }

  void Unload() {
    std::lock_guard<std::mutex> lock(mutex_);
    model_.reset();
  }

  // The loaded model, or nullptr.
  std::shared_ptr<const Model> Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
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
  std::mutex load_mutex_;     // Serialises loads.
  mutable std::mutex mutex_;  // Guards model_.
  std::shared_ptr<const Model> model_;
};

}  // namespace codec

#endif  // BACKENDS_CORE_LOADED_MODEL_H_
