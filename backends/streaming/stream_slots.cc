#include "backends/streaming/stream_slots.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/kernels/tensor_convert.h"

namespace codec::nn {
namespace {

std::atomic<int64_t> stacked_batches{0};
std::atomic<int64_t> stacked_rows{0};
std::atomic<int64_t> stacked_ending_batches{0};
std::atomic<int64_t> stacked_ending_rows{0};
std::atomic<int> slots_setting{0};

// The rows [start, start + length) of `stacked` along `dim`; all of it when
// that is everything.
at::Tensor Rows(const at::Tensor& stacked, int64_t dim, int64_t start, int64_t length) {
  if (!stacked.defined() || (start == 0 && length == stacked.size(dim))) return stacked;
  return stacked.narrow(dim, start, length);
}

}  // namespace

// Pointers to one layer tree's state slots, in visiting order.
class StreamSlots::StateSlots final : public StreamStateVisitor {
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
  void Ending(int64_t value) override { endings.push_back(value); }

  // What must be equal for two trees to step together: slot shapes (one
  // row), flags, relevant counts and which rows draw noise.
  std::vector<int64_t> Signature() const {
    std::vector<int64_t> key;
    for (const RowSlot& slot : rows) {
      const at::Tensor& tensor = *slot.tensor;
      key.push_back(tensor.defined() ? tensor.dim() : -1);
      if (!tensor.defined()) continue;
      for (int64_t d = 0; d < tensor.dim(); ++d) {
        key.push_back(d == slot.batch_dim ? 1 : tensor.size(d));
      }
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
  // Past every count where a step still depends on it.
  bool Steady() const {
    return std::all_of(progress.begin(), progress.end(),
                       [](const ProgressSlot& slot) { return *slot.count >= slot.matters_below; });
  }

  std::vector<RowSlot> rows;
  std::vector<bool*> flags;
  std::vector<ProgressSlot> progress;
  std::vector<std::vector<NoiseSource*>*> sources;
  std::vector<int64_t> endings;
};

// A stream of one step: its own layers' slots and its place in the table.
struct StreamSlots::Member {
  size_t row = 0;  // In the step's inputs.
  StreamLayer* layers = nullptr;
  StateSlots own;
  int slot = -1;  // In the table; -1: its state is in its own layers.
};

// Lends a copy of the layers, for one run, the noise sources of a group's
// streams (each row draws from its own stream's), and gives the copy its own
// back when it ends, by return or exception. With `copies`, the rows draw
// from copies of the streams' sources, one per source, which the run
// advances instead of the streams'.
class StreamSlots::LentSources {
 public:
  LentSources(const StateSlots& copy, const std::vector<Member>& members, bool copies)
      : copy_(copy) {
    for (std::vector<NoiseSource*>* list : copy_.sources) own_.push_back(*list);
    for (size_t i = 0; i < copy_.sources.size(); ++i) {
      std::vector<NoiseSource*> rows;
      for (const Member& member : members) {
        for (NoiseSource* source : *member.own.sources[i]) {
          rows.push_back(copies ? CopyOf(source) : source);
        }
      }
      *copy_.sources[i] = std::move(rows);
    }
  }
  ~LentSources() {
    for (size_t i = 0; i < own_.size(); ++i) *copy_.sources[i] = std::move(own_[i]);
  }
  LentSources(const LentSources&) = delete;
  LentSources& operator=(const LentSources&) = delete;

 private:
  NoiseSource* CopyOf(const NoiseSource* source) {
    std::unique_ptr<NoiseSource>& copy = copies_[source];
    if (copy == nullptr) {
      copy = std::make_unique<NoiseSource>(source->has_value() ? NoiseSource((*source)->clone())
                                                               : std::nullopt);
    }
    return copy.get();
  }

  const StateSlots& copy_;
  std::vector<std::vector<NoiseSource*>> own_;
  std::map<const NoiseSource*, std::unique_ptr<NoiseSource>> copies_;
};

int64_t StreamSlots::StackedCount(const std::vector<Member>& members) {
  return std::count_if(members.begin(), members.end(),
                       [](const Member& member) { return member.slot >= 0; });
}

// The stacked state of the steady streams: rows[k] holds slot k of every
// stacked stream along its batch dimension, stream i at row i.
struct StreamSlots::Table {
  std::vector<int64_t> signature;  // Empty while no stream is stacked.
  std::vector<at::Tensor> rows;
  // Whether `rows` share their memory with nothing else, so that a step of
  // some of the streams may write their rows in place. A step of all of
  // them hands the table the layers' new state, which may be views of
  // tensors a layer keeps elsewhere.
  bool owned = false;
  std::vector<int64_t> batch_dims;
  std::vector<StreamLayer*> streams;  // By row.

  int SlotOf(StreamLayer* layers) const {
    auto it = std::find(streams.begin(), streams.end(), layers);
    return it == streams.end() ? -1 : static_cast<int>(it - streams.begin());
  }
};

StreamSlots::StreamSlots(LayerFactory make_layers, int capacity)
    : capacity_(capacity),
      lead_(make_layers(&lead_noise_)),
      make_layers_(std::move(make_layers)),
      table_(std::make_unique<Table>()) {}

StreamSlots::~StreamSlots() = default;

absl::Status StreamSlots::Open() {
  absl::MutexLock lock(&mutex_);
  if (open_ >= capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "all ", capacity_, " stream slots of this model replica are taken (--stream_slots)"));
  }
  ++open_;
  return absl::OkStatus();
}

void StreamSlots::Close(StreamLayer* layers) {
  c10::InferenceMode inference;
  absl::MutexLock lock(&mutex_);
  --open_;
  if (const int slot = table_->SlotOf(layers); slot >= 0) RemoveSlot(slot);
}

void StreamSlots::Release(StreamLayer* layers) {
  c10::InferenceMode inference;
  absl::MutexLock lock(&mutex_);
  const int slot = table_->SlotOf(layers);
  if (slot < 0) return;
  StateSlots own;
  layers->VisitState(own);
  for (size_t k = 0; k < own.rows.size(); ++k) {
    // Its own copy: its layers may write their state in place.
    const at::Tensor row = Rows(table_->rows[k], table_->batch_dims[k], slot, 1);
    *own.rows[k].tensor = row.defined() ? row.clone() : row;
  }
  RemoveSlot(slot);
}

std::vector<at::Tensor> StreamSlots::FinishCopies(const std::vector<StreamLayer*>& layers) {
  c10::InferenceMode inference;
  absl::MutexLock lock(&mutex_);
  if (ender_ == nullptr) ender_ = make_layers_(&ender_noise_);
  std::vector<at::Tensor> out(layers.size());
  for (auto& [key, members] : GroupMembers(layers, /*ending=*/true)) {
    StateSlots ender;
    ender_->VisitState(ender);
    at::Device device = at::kCPU;  // The table's, for its index.
    for (const at::Tensor& rows : table_->rows) {
      if (rows.defined()) {
        device = rows.device();
        break;
      }
    }
    bool whole_table = false;
    const at::Tensor slot_index = SlotIndex(members, device, whole_table);
    Gather(members, ender, whole_table, slot_index);
    // The copy's own: ending writes its state, which may be the table's.
    for (const auto& slot : ender.rows) {
      if (slot.tensor->defined()) *slot.tensor = slot.tensor->clone();
    }
    at::Tensor ended;
    {
      LentSources lent(ender, members, /*copies=*/true);
      ended = ender_->Finish();
    }
    for (size_t r = 0; r < members.size(); ++r) out[members[r].row] = Rows(ended, 0, r, 1);
    if (members.size() > 1) {
      stacked_ending_batches.fetch_add(1, std::memory_order_relaxed);
      stacked_ending_rows.fetch_add(static_cast<int64_t>(members.size()),
                                    std::memory_order_relaxed);
    }
  }
  return out;
}

void StreamSlots::RemoveSlot(int slot) {
  Table& table = *table_;
  const int64_t count = static_cast<int64_t>(table.streams.size());
  table.streams.erase(table.streams.begin() + slot);
  if (table.streams.empty()) {
    *table_ = Table();
    return;
  }
  for (size_t k = 0; k < table.rows.size(); ++k) {
    at::Tensor& stacked = table.rows[k];
    if (!stacked.defined()) continue;
    const int64_t dim = table.batch_dims[k];
    if (slot == 0 || slot == count - 1) {
      stacked = stacked.narrow(dim, slot == 0 ? 1 : 0, count - 1);
    } else {
      stacked = at::cat({stacked.narrow(dim, 0, slot),
                         stacked.narrow(dim, slot + 1, count - slot - 1)},
                        dim);
    }
  }
}

std::vector<StreamSlots::Group> StreamSlots::Push(const std::vector<StreamLayer*>& layers,
                                                  const at::Tensor& inputs) {
  TORCH_CHECK(inputs.defined() && inputs.size(0) == static_cast<int64_t>(layers.size()),
              "one input row per stream");
  absl::MutexLock lock(&mutex_);
  return PushLocked(layers, inputs);
}

std::map<std::vector<int64_t>, std::vector<StreamSlots::Member>> StreamSlots::GroupMembers(
    const std::vector<StreamLayer*>& layers, bool ending) {
  // Streams step together when their state lines up: the stacked ones by
  // the table's signature, the others by their own.
  std::map<std::vector<int64_t>, std::vector<Member>> groups;
  for (size_t i = 0; i < layers.size(); ++i) {
    Member member;
    member.row = i;
    member.layers = layers[i];
    layers[i]->VisitState(member.own);
    member.slot = table_->SlotOf(layers[i]);
    std::vector<int64_t> key = member.slot >= 0 ? table_->signature : member.own.Signature();
    if (ending) key.insert(key.end(), member.own.endings.begin(), member.own.endings.end());
    groups[std::move(key)].push_back(std::move(member));
  }
  for (auto& [key, members] : groups) {
    // Stacked streams first, in table order, then the others.
    std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
      return (a.slot < 0 ? INT32_MAX : a.slot) < (b.slot < 0 ? INT32_MAX : b.slot);
    });
  }
  return groups;
}

at::Tensor StreamSlots::SlotIndex(const std::vector<Member>& members, const at::Device& device,
                                  bool& whole_table) const {
  whole_table = true;
  for (size_t r = 0; r < table_->streams.size(); ++r) {
    whole_table = whole_table && r < members.size() && members[r].slot == static_cast<int>(r);
  }
  const int64_t stacked = StackedCount(members);
  if (stacked == 0 || whole_table) return at::Tensor();
  std::vector<int64_t> slots;
  for (int64_t r = 0; r < stacked; ++r) slots.push_back(members[r].slot);
  return IndexTensor(slots, device);
}

std::vector<StreamSlots::Group> StreamSlots::PushLocked(const std::vector<StreamLayer*>& layers,
                                                        const at::Tensor& inputs) {
  std::vector<Group> out;
  for (auto& [signature, members] : GroupMembers(layers, /*ending=*/false)) {
    Group group;
    for (const Member& member : members) group.rows.push_back(member.row);
    bool identity = group.rows.size() == layers.size();
    for (size_t r = 0; identity && r < group.rows.size(); ++r) identity = group.rows[r] == r;
    const at::Tensor input =
        identity ? inputs
                 : inputs.index_select(
                       0, IndexTensor({group.rows.begin(), group.rows.end()}, inputs.device()));
    group.output = PushGroup(members, input);
    if (members.size() > 1) {
      stacked_batches.fetch_add(1, std::memory_order_relaxed);
      stacked_rows.fetch_add(static_cast<int64_t>(members.size()), std::memory_order_relaxed);
    }
    out.push_back(std::move(group));
  }
  return out;
}

at::Tensor StreamSlots::PushGroup(std::vector<Member>& members, const at::Tensor& input) {
  // The group holds every stacked stream, in table order (the others join
  // after them): the table's tensors are its state as they are. Else the
  // index finds its stacked streams, for gathering and scattering.
  bool whole_table = false;
  const at::Tensor slot_index = SlotIndex(members, input.device(), whole_table);
  StateSlots lead;
  lead_->VisitState(lead);
  Gather(members, lead, whole_table, slot_index);
  std::vector<int64_t> progress_before;
  for (const auto& slot : lead.progress) progress_before.push_back(*slot.count);
  at::Tensor output;
  try {
    LentSources lent(lead, members, /*copies=*/false);
    output = lead_->Push(input);
  } catch (...) {
    for (auto member = members.rbegin(); member != members.rend(); ++member) {
      if (member->slot >= 0) RemoveSlot(member->slot);  // Unusable now.
    }
    throw;
  }
  for (Member& member : members) {
    for (size_t f = 0; f < lead.flags.size(); ++f) *member.own.flags[f] = *lead.flags[f];
    for (size_t p = 0; p < lead.progress.size(); ++p) {
      *member.own.progress[p].count += *lead.progress[p].count - progress_before[p];
    }
  }
  Scatter(members, lead, whole_table, slot_index);
  return output;
}

void StreamSlots::Gather(const std::vector<Member>& members, StateSlots& lead, bool whole_table,
                         const at::Tensor& slot_index) {
  TORCH_CHECK(lead.rows.size() == members.front().own.rows.size() &&
                  lead.flags.size() == members.front().own.flags.size() &&
                  lead.progress.size() == members.front().own.progress.size(),
              "a stream's layers and the lead's show the same state");
  const size_t stacked_count = static_cast<size_t>(StackedCount(members));
  for (size_t k = 0; k < lead.rows.size(); ++k) {
    const int64_t dim = lead.rows[k].batch_dim;
    std::vector<at::Tensor> parts;
    if (stacked_count > 0) {
      const at::Tensor& stacked = table_->rows[k];
      parts.push_back(whole_table || !stacked.defined() ? stacked
                                                         : stacked.index_select(dim, slot_index));
    }
    for (size_t r = stacked_count; r < members.size(); ++r) {
      parts.push_back(*members[r].own.rows[k].tensor);
    }
    const bool defined = parts.front().defined();
    for (const at::Tensor& part : parts) {
      TORCH_CHECK(part.defined() == defined && (!defined || part.size(dim) >= 1),
                  "streams of one group keep the same state");
    }
    *lead.rows[k].tensor = !defined ? at::Tensor() : parts.size() == 1 ? parts.front()
                                                                       : at::cat(parts, dim);
  }
  const Member& first = members.front();
  for (size_t f = 0; f < lead.flags.size(); ++f) *lead.flags[f] = *first.own.flags[f];
  for (size_t p = 0; p < lead.progress.size(); ++p) {
    *lead.progress[p].count = *first.own.progress[p].count;
  }
}

void StreamSlots::Scatter(std::vector<Member>& members, const StateSlots& lead, bool whole_table,
                          const at::Tensor& slot_index) {
  Table& table = *table_;
  const std::vector<int64_t> signature = lead.Signature();
  // Every stacked stream stepped: the table's state is the group's, whatever
  // shapes it took. Else the group stays only in the shapes of the others.
  const bool stays = table.streams.empty() || whole_table ? lead.Steady()
                                                          : signature == table.signature;
  const int64_t stacked = StackedCount(members);
  const int64_t total = static_cast<int64_t>(members.size());
  if (!stays) {
    // Back into each stream's own layers; the stacked ones leave the table.
    for (int64_t r = 0; r < total; ++r) {
      for (size_t k = 0; k < lead.rows.size(); ++k) {
        *members[r].own.rows[k].tensor = Rows(*lead.rows[k].tensor, lead.rows[k].batch_dim, r, 1);
      }
    }
    for (int64_t r = stacked - 1; r >= 0; --r) RemoveSlot(members[r].slot);
    return;
  }
  if (whole_table) table.signature = signature;
  if (table.streams.empty()) {
    table.rows.assign(lead.rows.size(), at::Tensor());
    table.batch_dims.clear();
    for (const auto& slot : lead.rows) table.batch_dims.push_back(slot.batch_dim);
  }
  if (slot_index.defined() && !table.owned) {
    for (at::Tensor& rows : table.rows) rows = rows.defined() ? rows.clone() : rows;
    table.owned = true;
  }
  for (size_t k = 0; k < lead.rows.size(); ++k) {
    const at::Tensor& fresh = *lead.rows[k].tensor;
    const int64_t dim = lead.rows[k].batch_dim;
    at::Tensor& rows = table.rows[k];
    if (!fresh.defined()) continue;
    if (whole_table) {
      rows = fresh;  // The stacked streams and any joining after them.
      continue;
    }
    if (stacked > 0) rows.index_copy_(dim, slot_index, Rows(fresh, dim, 0, stacked));
    if (stacked < total) {
      const at::Tensor joining = Rows(fresh, dim, stacked, total - stacked);
      rows = rows.defined() ? at::cat({rows, joining}, dim) : joining;
    }
  }
  // Written in place or new (a cat), unless they are the layers' own.
  table.owned = !whole_table;
  // The joining streams' own layers let go of their state.
  for (int64_t r = stacked; r < total; ++r) {
    members[r].slot = static_cast<int>(table.streams.size());
    table.streams.push_back(members[r].layers);
    for (const auto& slot : members[r].own.rows) *slot.tensor = at::Tensor();
  }
}

int StreamSlotsFor(const c10::Device& device) {
  const int setting = slots_setting.load(std::memory_order_relaxed);
  if (setting > 0) return setting;
  return device.is_cpu() ? 64 : 256;
}

void SetStreamSlots(int slots) { slots_setting.store(slots, std::memory_order_relaxed); }

StackedPushCount StackedPushes() {
  return {stacked_batches.load(std::memory_order_relaxed),
          stacked_rows.load(std::memory_order_relaxed)};
}

StackedPushCount StackedEndings() {
  return {stacked_ending_batches.load(std::memory_order_relaxed),
          stacked_ending_rows.load(std::memory_order_relaxed)};
}

}  // namespace codec::nn
