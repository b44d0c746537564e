#ifndef BACKENDS_STREAMING_STREAM_SLOTS_H_
#define BACKENDS_STREAMING_STREAM_SLOTS_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "backends/streaming/noise_source.h"
#include "backends/streaming/stream_layer.h"

namespace codec::nn {

// The streams of one network on one replica, stepped as one batch, with the
// state of the steady ones kept stacked between steps.
//
// Every stream holds a slot from Open to its end, so a replica never has
// more than `capacity` streams. A stream starts in its own layers (the
// StreamLayer tree it was opened with). Once a step leaves it steady (every
// progress count past the value where it changes what a step does) with the
// state shapes of the streams already stacked, its state moves into the
// stacked table: one row of each state tensor, along that tensor's batch
// dimension. A step runs one lead copy of the layers on its streams' rows:
// when they are every stacked stream, in table order, the table's tensors
// themselves (no copy); otherwise one gather and one scatter per state
// tensor. Either way a step dispatches the same operations for 1 or 256
// streams. Streams of other ages or shapes step in groups beside it, their
// state stacked for the step and split back after.
//
// Rows never mix (each layer computes a row from that row alone, and noise
// is drawn from each row's own source), so a stream's output is the same
// whether it ran alone or in any batch, up to the float rounding of batched
// kernels. A new stream's state is its own layers' initial state: a slot's
// previous stream cannot leak into it.
//
// Thread-safe: a step, a Release and a Close of one table run one at a time.
class StreamSlots {
 public:
  // Builds a copy of the network's stream layers drawing from `noise`.
  using LayerFactory = std::function<StreamLayerPtr(NoiseSource* noise)>;

  StreamSlots(LayerFactory make_layers, int capacity);
  ~StreamSlots();
  StreamSlots(const StreamSlots&) = delete;
  StreamSlots& operator=(const StreamSlots&) = delete;

  // Takes a slot for a new stream; RESOURCE_EXHAUSTED when all are taken.
  absl::Status Open();
  // Gives back the slot of the stream whose layers are `layers`, forgetting
  // its stacked state. REQUIRES: Open() succeeded for it.
  void Close(StreamLayer* layers);
  // Moves the stream's stacked state (if any) back into `layers`, so they
  // can run alone (Finish). It keeps its slot.
  void Release(StreamLayer* layers);
  // Ends a copy of each stream of `layers` (distinct streams of this table,
  // each Open) as if its input ended now, the streams left as they are:
  // element i is what layers[i]->Finish() would return ([1, channels,
  // time], undefined for none), its noise drawn from a copy of the stream's
  // source. Streams whose state lines up end as one batch (a decode's early
  // audio under a lookahead bound, for every stream of a step at once).
  std::vector<at::Tensor> FinishCopies(const std::vector<StreamLayer*>& layers);

  // Rows of one step that pushed together: `rows` index the step's streams,
  // in the order of `output`'s batch rows.
  struct Group {
    std::vector<size_t> rows;
    at::Tensor output;  // Undefined: no samples for these streams.
  };
  // Pushes row i of `inputs` ([B, channels, time]) into the stream of
  // `layers[i]` (distinct streams of this table, each Open). On an exception
  // every stream of the step is left unusable, as a throwing Push leaves one.
  std::vector<Group> Push(const std::vector<StreamLayer*>& layers, const at::Tensor& inputs);

 private:
  class StateSlots;
  struct Member;
  class LentSources;
  struct Table;

  std::vector<Group> PushLocked(const std::vector<StreamLayer*>& layers,
                                const at::Tensor& inputs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Runs one group through the lead layers and stores every member's new state.
  at::Tensor PushGroup(std::vector<Member>& members, const at::Tensor& input)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Loads the group's state into the lead's slots `lead`.
  void Gather(const std::vector<Member>& members, StateSlots& lead, bool whole_table,
              const at::Tensor& slot_index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Stores the lead's new state: stacked when steady and shaped as the
  // table, else back in each member's own layers.
  void Scatter(std::vector<Member>& members, const StateSlots& lead, bool whole_table,
               const at::Tensor& slot_index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // How many of a group's members are stacked (they come first).
  static int64_t StackedCount(const std::vector<Member>& members);
  // The members of one step (or ending) of `layers`, grouped by what must
  // be equal to run together (`ending`: also their Ending values), stacked
  // ones first in table order.
  std::map<std::vector<int64_t>, std::vector<Member>> GroupMembers(
      const std::vector<StreamLayer*>& layers, bool ending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Where a group's stacked members are in the table (undefined when none
  // or all are), and whether they are the whole table in its order.
  at::Tensor SlotIndex(const std::vector<Member>& members, const at::Device& device,
                       bool& whole_table) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Takes the stream at `slot` out of the table.
  void RemoveSlot(int slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const int capacity_;
  mutable absl::Mutex mutex_;
  int open_ ABSL_GUARDED_BY(mutex_) = 0;
  NoiseSource lead_noise_;  // The lead's own; each push lends it its rows'.
  const StreamLayerPtr lead_ ABSL_GUARDED_BY(mutex_);
  // The copy FinishCopies ends streams in, made on first use.
  NoiseSource ender_noise_;
  StreamLayerPtr ender_ ABSL_GUARDED_BY(mutex_);
  const LayerFactory make_layers_;
  std::unique_ptr<Table> table_ ABSL_GUARDED_BY(mutex_);
};

// The slot count a replica on `device` gets: SetStreamSlots's, or by default
// 64 on a CPU and 256 on a GPU (docs/BENCHMARKS.md says why).
int StreamSlotsFor(const c10::Device& device);
// 0: the default per device kind.
void SetStreamSlots(int slots);

// The groups of two or more streams the process has pushed, and the streams
// they held.
struct StackedPushCount {
  int64_t batches = 0;
  int64_t rows = 0;
};
StackedPushCount StackedPushes();
// Likewise the groups of two or more streams FinishCopies ended at once.
StackedPushCount StackedEndings();

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_STREAM_SLOTS_H_
