#include "backends/nn/stream_batch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <utility>

namespace codec::nn {
namespace {

std::atomic<int64_t> stacked_batches{0};
std::atomic<int64_t> stacked_rows{0};

// Pointers to one stream's state slots, in visiting order.
class StateSlots final : public StreamStateVisitor {
 public:
  struct RowSlot {
    at::Tensor* tensor;
    int64_t batch_dim;
  };
  struct ProgressSlot {
    int64_t* count;
    int64_t matters_below;
  };

  void Rows(at::Tensor& tensor, int64_t batch_dim) override {
    rows.push_back({&tensor, batch_dim});
  }
  void Shared(bool& flag) override { flags.push_back(&flag); }
  void Progress(int64_t& count, int64_t matters_below) override {
    progress.push_back({&count, matters_below});
  }
  void Sources(std::vector<NoiseSource*>& list) override { sources.push_back(&list); }

  // What must be equal for two streams to step together, with `input`.
  std::vector<int64_t> Signature(const at::Tensor& input) const {
    std::vector<int64_t> key(input.sizes().begin(), input.sizes().end());
    for (const RowSlot& slot : rows) {
      key.push_back(slot.tensor->defined() ? slot.tensor->dim() : -1);
      if (!slot.tensor->defined()) continue;
      for (int64_t d = 0; d < slot.tensor->dim(); ++d) key.push_back(slot.tensor->size(d));
    }
    for (const bool* flag : flags) key.push_back(*flag);
    for (const ProgressSlot& slot : progress) {
      key.push_back(std::min(*slot.count, slot.matters_below));
    }
    for (const std::vector<NoiseSource*>* list : sources) {
      for (const NoiseSource* source : *list) key.push_back(source->has_value());
    }
    return key;
  }

  std::vector<RowSlot> rows;
  std::vector<bool*> flags;
  std::vector<ProgressSlot> progress;
  std::vector<std::vector<NoiseSource*>*> sources;
};

at::Tensor Row(const at::Tensor& stacked, int64_t batch_dim, int64_t row) {
  return stacked.defined() ? stacked.narrow(batch_dim, row, 1) : at::Tensor();
}

// Pushes the streams `members` (indices into slots / layers / inputs) as
// one batch through one member's layers.
std::vector<at::Tensor> PushGroup(const std::vector<int>& members, std::vector<StateSlots>& slots,
                                  const std::vector<StreamLayer*>& layers,
                                  const std::vector<at::Tensor>& inputs) {
  // The same stream leads a batch of the same streams each time, so the
  // kernels its layers prepare per input shape are prepared once.
  const int lead_index = *std::min_element(members.begin(), members.end(), [&](int a, int b) {
    return std::less<StreamLayer*>()(layers[a], layers[b]);
  });
  StateSlots& lead = slots[lead_index];
  std::vector<int64_t> progress_before;
  for (const auto& slot : lead.progress) progress_before.push_back(*slot.count);
  for (size_t i = 0; i < lead.rows.size(); ++i) {
    if (!lead.rows[i].tensor->defined()) continue;
    std::vector<at::Tensor> parts;
    for (int m : members) {
      parts.push_back(*slots[m].rows[i].tensor);
      TORCH_CHECK(parts.back().size(lead.rows[i].batch_dim) == 1, "a stream's state has one row");
    }
    *lead.rows[i].tensor = at::cat(parts, lead.rows[i].batch_dim);
  }
  std::vector<std::vector<NoiseSource*>> own_sources;
  for (size_t i = 0; i < lead.sources.size(); ++i) {
    own_sources.push_back(*lead.sources[i]);
    std::vector<NoiseSource*> rows;
    for (int m : members) {
      rows.insert(rows.end(), slots[m].sources[i]->begin(), slots[m].sources[i]->end());
    }
    *lead.sources[i] = std::move(rows);
  }
  std::vector<at::Tensor> parts;
  for (int m : members) parts.push_back(inputs[m]);
  at::Tensor stacked_out;
  try {
    stacked_out = layers[lead_index]->Push(at::cat(parts, 0));
  } catch (...) {
    for (size_t i = 0; i < lead.sources.size(); ++i) *lead.sources[i] = own_sources[i];
    throw;
  }
  for (size_t i = 0; i < lead.sources.size(); ++i) *lead.sources[i] = own_sources[i];
  // Each stream takes its row of the new state.
  for (size_t i = 0; i < lead.rows.size(); ++i) {
    const at::Tensor stacked = *lead.rows[i].tensor;
    for (size_t r = 0; r < members.size(); ++r) {
      *slots[members[r]].rows[i].tensor = Row(stacked, lead.rows[i].batch_dim, r);
    }
  }
  for (int m : members) {
    if (m == lead_index) continue;
    StateSlots& member = slots[m];
    for (size_t f = 0; f < lead.flags.size(); ++f) *member.flags[f] = *lead.flags[f];
    for (size_t p = 0; p < lead.progress.size(); ++p) {
      *member.progress[p].count += *lead.progress[p].count - progress_before[p];
    }
  }
  std::vector<at::Tensor> outputs;
  for (size_t r = 0; r < members.size(); ++r) outputs.push_back(Row(stacked_out, 0, r));
  return outputs;
}

}  // namespace

std::vector<at::Tensor> StackedPush(const std::vector<StreamLayer*>& layers,
                                    const std::vector<at::Tensor>& inputs) {
  TORCH_CHECK(layers.size() == inputs.size(), "one input per stream");
  if (layers.size() == 1) return {layers.front()->Push(inputs.front())};
  std::vector<StateSlots> slots(layers.size());
  std::map<std::vector<int64_t>, std::vector<int>> groups;
  for (size_t i = 0; i < layers.size(); ++i) {
    TORCH_CHECK(inputs[i].defined() && inputs[i].size(0) == 1, "one row per stream");
    layers[i]->VisitState(slots[i]);
    groups[slots[i].Signature(inputs[i])].push_back(static_cast<int>(i));
  }
  std::vector<at::Tensor> outputs(layers.size());
  for (const auto& [signature, members] : groups) {
    if (members.size() == 1) {
      outputs[members.front()] = layers[members.front()]->Push(inputs[members.front()]);
      continue;
    }
    std::vector<at::Tensor> rows = PushGroup(members, slots, layers, inputs);
    stacked_batches.fetch_add(1, std::memory_order_relaxed);
    stacked_rows.fetch_add(static_cast<int64_t>(members.size()), std::memory_order_relaxed);
    for (size_t r = 0; r < members.size(); ++r) outputs[members[r]] = std::move(rows[r]);
  }
  return outputs;
}

StackedPushCount StackedPushes() {
  return {stacked_batches.load(std::memory_order_relaxed),
          stacked_rows.load(std::memory_order_relaxed)};
}

}  // namespace codec::nn
