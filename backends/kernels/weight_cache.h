#ifndef BACKENDS_KERNELS_WEIGHT_CACHE_H_
#define BACKENDS_KERNELS_WEIGHT_CACHE_H_

#include <ATen/core/Tensor.h>
#include <c10/util/intrusive_ptr.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace codec::nn {

// Something derived from a weight tensor (a prepared kernel, a layout), made
// once and shared by every stream of the loaded model; an entry goes when
// its tensor does (checked on each Get). For streams, whose layers are made
// per session from the shared modules.
template <typename T>
class WeightCache {
 public:
  // The value made for `weight`, or make()'s (which may be null) made now.
  template <typename Make>
  std::shared_ptr<const T> Get(const at::Tensor& weight, Make make) {
    absl::MutexLock lock(&mu_);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [](const Entry& entry) { return entry.owner.expired(); }),
                   entries_.end());
    for (const Entry& entry : entries_) {
      if (entry.owner._unsafe_get_target() == weight.unsafeGetTensorImpl()) return entry.value;
    }
    std::shared_ptr<const T> value = make();
    entries_.push_back({WeakTensor(weight.getIntrusivePtr()), value});
    return value;
  }

 private:
  using WeakTensor = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
  struct Entry {
    WeakTensor owner;
    std::shared_ptr<const T> value;
  };
  absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_WEIGHT_CACHE_H_
