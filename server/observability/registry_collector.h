#ifndef SERVER_OBSERVABILITY_REGISTRY_COLLECTOR_H_
#define SERVER_OBSERVABILITY_REGISTRY_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "server/serving/model_registry.h"

namespace codec::server {

// What a ModelRegistry holds, read at each Prometheus scrape: each model's
// state (one series per state, 1 for the current one), and per replica its
// weights' memory, its streams and its queued steps; per device of the pool
// the models' memory, streams and queued steps there. The registry must
// outlive the collector.
class RegistryCollector final : public prometheus::Collectable {
 public:
  explicit RegistryCollector(const ModelRegistry& registry) : registry_(registry) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ModelRegistry& registry_;
};

}  // namespace codec::server

#endif  // SERVER_OBSERVABILITY_REGISTRY_COLLECTOR_H_
