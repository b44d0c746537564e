#include <gtest/gtest.h>

#include <string>

#include "server/rpc/model_service.h"
#include "server/serving/model_registry.h"

namespace codec::server {
namespace {

// The registry names its states once; codec.v1 must have each of them, under
// the same name.
TEST(ModelStateTest, EveryRegistryStateHasItsCodecV1Value) {
  for (ModelState state : kModelStates) {
    const v1::ModelState proto = ModelStateToProto(state);
    EXPECT_NE(proto, v1::MODEL_STATE_UNSPECIFIED) << ModelStateName(state);
    EXPECT_EQ(v1::ModelState_Name(proto), std::string("MODEL_STATE_") + ModelStateName(state));
  }
}

TEST(ModelStateTest, EveryCodecV1ValueButUnspecifiedIsARegistryState) {
  for (int value = v1::ModelState_MIN; value <= v1::ModelState_MAX; ++value) {
    if (!v1::ModelState_IsValid(value) || value == v1::MODEL_STATE_UNSPECIFIED) continue;
    bool found = false;
    for (ModelState state : kModelStates) found |= ModelStateToProto(state) == value;
    EXPECT_TRUE(found) << v1::ModelState_Name(static_cast<v1::ModelState>(value));
  }
}

}  // namespace
}  // namespace codec::server
