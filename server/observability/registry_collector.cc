#include "server/observability/registry_collector.h"

#include <prometheus/client_metric.h>

#include <string>
#include <utility>

namespace codec::server {
namespace {

prometheus::MetricFamily Gauges(const char* name, const char* help) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Gauge;
  return family;
}

void AddGauge(prometheus::MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
              double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

}  // namespace

std::vector<prometheus::MetricFamily> RegistryCollector::Collect() const {
  prometheus::MetricFamily states =
      Gauges("codec_model_state", "1 for the state each model is in, 0 for the others.");
  prometheus::MetricFamily memory =
      Gauges("codec_model_memory_bytes", "Memory of the weights of each model replica.");
  prometheus::MetricFamily streams =
      Gauges("codec_model_streams", "Streams using each model replica now.");
  prometheus::MetricFamily queued =
      Gauges("codec_model_queued_steps", "Stream steps waiting for each model replica now.");
  for (const ModelInfo& model : registry_.List()) {
    for (ModelState state : kModelStates) {
      AddGauge(states, {{"model", model.id}, {"state", ModelStateName(state)}},
               state == model.state ? 1 : 0);
    }
    for (const ReplicaInfo& replica : model.replicas) {
      const std::vector<prometheus::ClientMetric::Label> labels{{"model", model.id},
                                                                {"device", replica.device}};
      AddGauge(memory, labels, static_cast<double>(replica.memory_bytes));
      AddGauge(streams, labels, replica.streams);
      AddGauge(queued, labels, replica.steps.queued);
    }
  }
  prometheus::MetricFamily device_memory = Gauges(
      "codec_device_model_memory_bytes", "Memory of the weights of the models on each device.");
  prometheus::MetricFamily device_streams =
      Gauges("codec_device_streams", "Streams using the models of each device now.");
  prometheus::MetricFamily device_queued =
      Gauges("codec_device_queued_steps", "Stream steps waiting on each device now.");
  for (const DeviceLoad& load : registry_.Devices()) {
    const std::vector<prometheus::ClientMetric::Label> labels{{"device", load.device->name}};
    AddGauge(device_memory, labels, static_cast<double>(load.memory_bytes));
    AddGauge(device_streams, labels, load.streams);
    AddGauge(device_queued, labels, load.queued_steps);
  }
  return {std::move(states),       std::move(memory),        std::move(streams),
          std::move(queued),       std::move(device_memory), std::move(device_streams),
          std::move(device_queued)};
}

}  // namespace codec::server
