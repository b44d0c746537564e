#include "server/serving/memory_budget.h"

#include <gtest/gtest.h>

#include <optional>

namespace codec::server {
namespace {

TEST(MemoryBudgetTest, ReservationsShareTheBudgetAndGiveBackOnRelease) {
  MemoryBudget budget(100);
  std::optional<MemoryBudget::Reservation> first(budget);
  MemoryBudget::Reservation second(budget);
  EXPECT_TRUE(first->Resize(60).ok());
  EXPECT_TRUE(second.Resize(40).ok());
  EXPECT_EQ(budget.reserved(), 100);
  // Over the budget: refused at once, and the reservation keeps its size.
  const absl::Status over = second.Resize(41);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted) << over;
  EXPECT_EQ(second.bytes(), 40);
  EXPECT_EQ(budget.reserved(), 100);
  // Shrinking gives back; a release gives back the rest.
  EXPECT_TRUE(first->Resize(10).ok());
  EXPECT_EQ(budget.reserved(), 50);
  EXPECT_TRUE(second.Resize(90).ok());
  first.reset();
  EXPECT_EQ(budget.reserved(), 90);
}

TEST(MemoryBudgetTest, ZeroIsNoBound) {
  MemoryBudget budget(0);
  MemoryBudget::Reservation reservation(budget);
  EXPECT_TRUE(reservation.Resize(int64_t{1} << 50).ok());
  EXPECT_EQ(budget.reserved(), int64_t{1} << 50);
}

}  // namespace
}  // namespace codec::server
