#include "backends/streaming/network_streams.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "backends/core/codec_backend.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"

namespace codec::nn {
namespace {

// Stops a batch's shared work when every stream of it says stop, with the
// first one's status; each stream's own work stops on its own check.
StopCheck AllStopped(std::vector<StopCheck> checks) {
  return [checks = std::move(checks)]() -> absl::Status {
    absl::Status first;
    for (const StopCheck& check : checks) {
      if (!check) return absl::OkStatus();
      absl::Status status = check();
      if (status.ok()) return status;
      if (first.ok()) first = std::move(status);
    }
    return first;
  };
}

// Codes with the model's levels and no frames.
Codes EmptyCodes(const CodecDescription& description) {
  Codes codes;
  for (int codebooks : description.codebooks_per_level) {
    codes.levels.push_back(CodeLevel{codebooks, 0, {}});
  }
  return codes;
}

using Group = StreamSlots::Group;

// One direction of a network stream: what a session keeps besides its
// layers' state, how checked chunks of B sessions become the layers' input
// [B, ...] (Inputs) and how their outputs become each session's result
// (Outputs). NetworkStream<Direction> runs either.
class Encoding {
 public:
  using In = Audio;
  using Out = Codes;

  explicit Encoding(EncodeStreamParts parts) : parts_(std::move(parts)) {}

  StreamLayer& layers() { return *parts_.encoder; }
  StreamSlots& slots() const { return *parts_.slots; }
  const StopCheck& stop() const { return parts_.stop; }
  Codes Empty() const { return EmptyCodes(parts_.description); }

  // Checks `chunk` and counts it in; `pushes` says whether it has samples.
  absl::Status Admit(const Audio& chunk, bool& pushes) {
    RETURN_IF_ERROR(ValidateAudioChunk(chunk, parts_.description));
    pushes = !chunk.samples.empty();
    samples_ += chunk.num_frames();
    return absl::OkStatus();
  }
  static std::vector<int64_t> ShapeOf(const Audio& chunk) {
    return {chunk.channels, chunk.num_frames()};
  }
  // The layers keep parts of their input: this is their own copy.
  at::Tensor Inputs(const std::vector<const Audio*>& chunks) const {
    return AudioBatchToDevice(chunks, parts_.device);
  }
  // The codes of each session's latent, quantised for all sessions of one
  // quantiser at once.
  static std::vector<Codes> Outputs(const std::vector<Encoding*>& sessions,
                                    const std::vector<Group>& groups) {
    std::vector<Codes> out(sessions.size());
    for (const Group& group : groups) QuantizeInto(sessions, group.rows, group.output, out);
    return out;
  }

  absl::StatusOr<Codes> Finish() {
    if (samples_ == 0) return absl::InvalidArgumentError("the stream carried no audio");
    absl::StatusOr<Codes> codes = RunInterruptible(parts_.stop, [&]() -> absl::StatusOr<Codes> {
      c10::InferenceMode inference;
      const int64_t multiple = parts_.pad_multiple;
      const int64_t padding = (samples_ + multiple - 1) / multiple * multiple - samples_;
      at::Tensor latent;
      if (padding > 0) {
        latent = parts_.encoder->Push(
            at::zeros({1, parts_.description.channels, padding}, at::TensorOptions(parts_.device)));
      }
      latent = CatTime(latent, parts_.encoder->Finish());
      return Outputs({this}, {Group{{0}, latent}}).front();
    });
    if (codes.ok()) codes->num_samples = samples_;
    return codes;
  }

 private:
  // Codes of `latent`'s rows (undefined: none) into out[rows[i]], one
  // quantiser call per quantiser count.
  static void QuantizeInto(const std::vector<Encoding*>& sessions, const std::vector<size_t>& rows,
                           const at::Tensor& latent, std::vector<Codes>& out) {
    if (TimeLength(latent) == 0) {
      for (size_t row : rows) out[row] = sessions[row]->Empty();
      return;
    }
    std::map<int, std::vector<int64_t>> by_n_q;
    for (size_t m = 0; m < rows.size(); ++m) {
      by_n_q[sessions[rows[m]]->parts_.n_q].push_back(static_cast<int64_t>(m));
    }
    for (const auto& [n_q, members] : by_n_q) {
      const at::Tensor part =
          members.size() == rows.size()
              ? latent
              : latent.index_select(0, IndexTensor(members, latent.device()));
      std::vector<Codes> codes =
          CodesBatchFromLevels(sessions[rows[members.front()]]->parts_.quantize(part));
      for (size_t i = 0; i < members.size(); ++i) out[rows[members[i]]] = std::move(codes[i]);
    }
  }
  EncodeStreamParts parts_;
  int64_t samples_ = 0;
};

class Decoding {
 public:
  using In = Codes;
  using Out = Audio;

  explicit Decoding(DecodeStreamParts parts)
      : parts_(std::move(parts)), decoder_(parts_.open_decoder(&parts_.noise)) {}

  StreamLayer& layers() { return *decoder_; }
  StreamSlots& slots() const { return *parts_.slots; }
  const StopCheck& stop() const { return parts_.stop; }
  Audio Empty() const {
    return Audio{.sample_rate = parts_.description.sample_rate,
                 .channels = parts_.description.channels,
                 .samples = {}};
  }

  absl::Status Admit(const Codes& chunk, bool& pushes) {
    RETURN_IF_ERROR(ValidateCodesChunk(chunk, parts_.description, codebooks_));
    frames_ += chunk.levels[0].frames * parts_.description.level_strides[0];
    pushes = true;
    return absl::OkStatus();
  }
  static std::vector<int64_t> ShapeOf(const Codes& chunk) {
    std::vector<int64_t> shape;
    for (const CodeLevel& level : chunk.levels) {
      shape.push_back(level.num_codebooks);
      shape.push_back(level.frames);
    }
    return shape;
  }
  at::Tensor Inputs(const std::vector<const Codes*>& chunks) const {
    return parts_.dequantize(LevelBatchToDevice(chunks, parts_.device));
  }
  // Each session's samples, a group's brought to the host in one copy, then
  // under a lookahead bound its early samples, trimmed to the stream's
  // length.
  static std::vector<Audio> Outputs(const std::vector<Decoding*>& sessions,
                                    const std::vector<Group>& groups) {
    std::vector<Audio> out(sessions.size());
    for (const Group& group : groups) {
      const Decoding& first = *sessions[group.rows.front()];
      std::vector<Audio> audio =
          TimeLength(group.output) == 0
              ? std::vector<Audio>(group.rows.size(), first.Empty())
              : AudioBatchFromTensor(group.output, first.parts_.description.sample_rate);
      for (size_t m = 0; m < group.rows.size(); ++m) {
        out[group.rows[m]] = sessions[group.rows[m]]->Unsent(std::move(audio[m]));
      }
    }
    AppendEarly(sessions, out);
    for (size_t i = 0; i < sessions.size(); ++i) out[i] = sessions[i]->Trim(std::move(out[i]));
    return out;
  }

  absl::StatusOr<Audio> Finish() {
    if (frames_ == 0) return absl::InvalidArgumentError("the stream carried no codes");
    if (frames_ % parts_.frame_multiple != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the stream ends after ", frames_, " frames; this model decodes multiples of ",
                       parts_.frame_multiple, " (whole attention windows, as encoded audio has)"));
    }
    finished_ = true;
    return RunInterruptible(parts_.stop, [&] {
      c10::InferenceMode inference;
      return Outputs({this}, {Group{{0}, decoder_->Finish()}}).front();
    });
  }

 private:
  // Of `exact`, the exact stream's next samples, those not sent early.
  Audio Unsent(Audio exact) {
    const int64_t first = exact_samples_;
    exact_samples_ += exact.num_frames();
    if (sent_ > first) {
      exact = SliceFrames(exact, std::min(sent_ - first, exact.num_frames()), exact.num_frames());
    }
    sent_ = std::max(sent_, exact_samples_);
    return exact;
  }

  // Samples the lookahead bound lets go before the exact stream has them:
  // those of the frames more than the bound before the codes' end. None
  // without a bound, after Finish, or when the codes cannot end here
  // (SNAC's attention windows).
  int64_t EarlyDue() const {
    if (!parts_.lookahead_frames.has_value() || finished_ || frames_ % parts_.frame_multiple != 0) {
      return sent_;
    }
    return std::max<int64_t>(0, frames_ - *parts_.lookahead_frames) * parts_.description.hop_length;
  }

  // Appends to out[i] the early samples sessions[i] owes, from copies of
  // the sessions' decoders ended here as the offline decode ends its input,
  // all ended at once (StreamSlots::FinishCopies).
  static void AppendEarly(const std::vector<Decoding*>& sessions, std::vector<Audio>& out) {
    std::vector<size_t> owing;
    std::vector<StreamLayer*> layers;
    for (size_t i = 0; i < sessions.size(); ++i) {
      if (sessions[i]->EarlyDue() <= sessions[i]->sent_) continue;
      owing.push_back(i);
      layers.push_back(sessions[i]->decoder_.get());
    }
    if (owing.empty()) return;
    const std::vector<at::Tensor> ends = sessions[owing.front()]->slots().FinishCopies(layers);
    for (size_t k = 0; k < owing.size(); ++k) {
      Decoding& session = *sessions[owing[k]];
      if (TimeLength(ends[k]) == 0) continue;
      // The copy's samples start where the exact stream's stop.
      const Audio end =
          AudioBatchFromTensor(ends[k], session.parts_.description.sample_rate).front();
      const int64_t last = std::min(session.EarlyDue(), session.exact_samples_ + end.num_frames());
      if (last <= session.sent_) continue;
      out[owing[k]] =
          ConcatAudio({out[owing[k]], SliceFrames(end, session.sent_ - session.exact_samples_,
                                                  last - session.exact_samples_)});
      session.sent_ = last;
    }
  }

  // `audio` cut to what is left of the stream's length, when it has one.
  Audio Trim(Audio audio) {
    if (parts_.num_samples > 0) {
      const int64_t keep =
          std::clamp<int64_t>(parts_.num_samples - emitted_, 0, audio.num_frames());
      if (keep < audio.num_frames()) audio = SliceFrames(audio, 0, keep);
    }
    emitted_ += audio.num_frames();
    return audio;
  }

  DecodeStreamParts parts_;
  StreamLayerPtr decoder_;  // Draws from parts_.noise: declared after it.
  std::vector<int> codebooks_;
  int64_t frames_ = 0;
  int64_t emitted_ = 0;  // After trimming.
  // Before trimming: the samples the exact stream has produced, and those
  // sent (more, when the lookahead bound sent some early).
  int64_t exact_samples_ = 0;
  int64_t sent_ = 0;
  bool finished_ = false;
};

// A stream of a network in either direction, holding one of its replica's
// slots from its start to its end. Its batch is every stream of the same
// slots: chunks of one shape run as one step.
template <typename Direction>
class NetworkStream final
    : public CodecStream<typename Direction::In, typename Direction::Out> {
  using In = typename Direction::In;
  using Out = typename Direction::Out;
  using Stream = CodecStream<In, Out>;

 public:
  // REQUIRES: the parts' slots gave this stream one (StreamSlots::Open).
  template <typename Parts>
  explicit NetworkStream(Parts parts) : direction_(std::move(parts)) {}
  ~NetworkStream() override { direction_.slots().Close(&direction_.layers()); }

  absl::StatusOr<Out> Push(const In& chunk) override { return PushBatch({this}, {&chunk})[0]; }
  absl::StatusOr<Out> Finish() override {
    // Its state leaves the stacked table: the end runs on its own layers.
    direction_.slots().Release(&direction_.layers());
    return direction_.Finish();
  }
  BatchKey batch_key() const override { return {&kKind, &direction_.slots()}; }

  std::vector<absl::StatusOr<Out>> PushBatch(const std::vector<Stream*>& sessions,
                                             const std::vector<const In*>& chunks) override {
    std::vector<absl::StatusOr<Out>> results(sessions.size(), absl::InternalError("not pushed"));
    std::map<std::vector<int64_t>, std::vector<size_t>> by_shape;
    for (size_t i = 0; i < sessions.size(); ++i) {
      Direction& session = DirectionOf(sessions[i]);
      bool pushes = false;
      if (absl::Status admitted = session.Admit(*chunks[i], pushes); !admitted.ok()) {
        results[i] = std::move(admitted);
      } else if (!pushes) {
        results[i] = session.Empty();
      } else {
        by_shape[Direction::ShapeOf(*chunks[i])].push_back(i);
      }
    }
    for (const auto& [shape, members] : by_shape) StepGroup(sessions, chunks, members, results);
    return results;
  }

 private:
  static constexpr char kKind = 0;  // One batch key kind per direction.

  static Direction& DirectionOf(Stream* session) {
    return static_cast<NetworkStream*>(session)->direction_;  // Same batch key.
  }

  // One step of the sessions `members`, whose chunks have one shape: one
  // input for all, stepped in their slots, stopping when every one says stop.
  static void StepGroup(const std::vector<Stream*>& sessions, const std::vector<const In*>& chunks,
                        const std::vector<size_t>& members,
                        std::vector<absl::StatusOr<Out>>& results) {
    std::vector<Direction*> group;
    std::vector<const In*> group_chunks;
    std::vector<StreamLayer*> layers;
    std::vector<StopCheck> stops;
    for (size_t i : members) {
      group.push_back(&DirectionOf(sessions[i]));
      group_chunks.push_back(chunks[i]);
      layers.push_back(&group.back()->layers());
      stops.push_back(group.back()->stop());
    }
    absl::StatusOr<std::vector<Out>> outputs =
        RunInterruptible(AllStopped(std::move(stops)), [&] {
          c10::InferenceMode inference;
          const at::Tensor inputs = group.front()->Inputs(group_chunks);
          return Direction::Outputs(group, group.front()->slots().Push(layers, inputs));
        });
    for (size_t m = 0; m < members.size(); ++m) {
      results[members[m]] =
          outputs.ok() ? absl::StatusOr<Out>(std::move((*outputs)[m])) : outputs.status();
    }
  }

  Direction direction_;
};

// Takes a slot of `parts`' table and opens the stream in it.
template <typename Direction, typename Parts>
auto OpenInSlot(Parts parts)
    -> absl::StatusOr<std::unique_ptr<CodecStream<typename Direction::In, typename Direction::Out>>> {
  if (parts.slots == nullptr) return absl::InternalError("the stream's parts carry no slots");
  RETURN_IF_ERROR(parts.slots->Open());
  return std::make_unique<NetworkStream<Direction>>(std::move(parts));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EncodeStream>> OpenNetworkEncodeStream(EncodeStreamParts parts) {
  return OpenInSlot<Encoding>(std::move(parts));
}

absl::StatusOr<std::unique_ptr<DecodeStream>> OpenNetworkDecodeStream(DecodeStreamParts parts) {
  if (parts.lookahead_frames.has_value() && *parts.lookahead_frames < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("lookahead_frames ", *parts.lookahead_frames, " is negative"));
  }
  // At the full lookahead the stream is the exact one, its first frames
  // included (they may wait longer than the steady state).
  if (parts.lookahead_frames >= parts.description.decode_lookahead_frames) {
    parts.lookahead_frames.reset();
  }
  return OpenInSlot<Decoding>(std::move(parts));
}

absl::Status ValidateCodesChunk(const Codes& codes, const CodecDescription& description,
                                std::vector<int>& codebooks) {
  RETURN_IF_ERROR(codes.Validate(description));
  for (size_t l = 0; l < codes.levels.size(); ++l) {
    if (codebooks.size() == l) codebooks.push_back(codes.levels[l].num_codebooks);
    if (codes.levels[l].num_codebooks != codebooks[l]) {
      return absl::InvalidArgumentError(
          absl::StrCat("codes level ", l, " changes from ", codebooks[l], " to ",
                       codes.levels[l].num_codebooks, " codebooks within the stream"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAudioChunk(const Audio& audio, const CodecDescription& description) {
  if (audio.samples.empty() && audio.sample_rate == description.sample_rate &&
      audio.channels == description.channels) {
    return absl::OkStatus();
  }
  return ValidateAudioInput(audio, description);
}

}  // namespace codec::nn
