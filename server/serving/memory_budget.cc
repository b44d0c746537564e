#include "server/serving/memory_budget.h"

#include "absl/strings/str_cat.h"

namespace codec::server {

absl::Status MemoryBudget::Reservation::Resize(int64_t bytes) {
  if (bytes > bytes_ && !budget_->Take(bytes - bytes_)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server's memory budget for streams (", budget_->budget_,
                     " bytes) cannot hold another ", bytes - bytes_, " bytes now; retry later"));
  }
  if (bytes < bytes_) budget_->Give(bytes_ - bytes);
  bytes_ = bytes;
  return absl::OkStatus();
}

bool MemoryBudget::Take(int64_t bytes) {
  absl::MutexLock lock(&mutex_);
  if (budget_ > 0 && reserved_ + bytes > budget_) return false;
  reserved_ += bytes;
  return true;
}

void MemoryBudget::Give(int64_t bytes) {
  absl::MutexLock lock(&mutex_);
  reserved_ -= bytes;
}

}  // namespace codec::server
