#include "backends/encodec/segment_streams.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <deque>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"
#include "backends/streaming/stream_layer.h"

namespace codec::encodec {
namespace {

using nn::CatTime;
using nn::TimeLength;

Codes CodesOf(const at::Tensor& codes, int n_q, std::vector<float> scales) {
  Codes out;
  out.levels.push_back(TimeLength(codes) > 0 ? nn::LevelFromTensor(codes) : CodeLevel{n_q, 0, {}});
  out.scales = std::move(scales);
  return out;
}

class SegmentEncodeStream final : public EncodeStream {
 public:
  SegmentEncodeStream(std::shared_ptr<const EncodecModel> model, CodecDescription description,
                      int n_q, StopCheck stop)
      : model_(std::move(model)),
        description_(std::move(description)),
        n_q_(n_q),
        stop_(std::move(stop)),
        segment_(model_->config().segment_length()),
        stride_(model_->config().segment_stride()) {}

  absl::StatusOr<Codes> Push(const Audio& audio) override {
    RETURN_IF_ERROR(nn::ValidateAudioChunk(audio, description_));
    if (!audio.samples.empty()) {
      samples_ += audio.num_frames();
      buffer_ = CatTime(buffer_, nn::AudioView(audio).clone());
    }
    return nn::RunInterruptible(stop_, [&] {
      // A segment is whole once `segment_` samples from its start are here.
      return EncodeWhile([&] { return segment_ > 0 && TimeLength(buffer_) >= segment_; });
    });
  }

  absl::StatusOr<Codes> Finish() override {
    if (samples_ == 0) return absl::InvalidArgumentError("the stream carried no audio");
    absl::StatusOr<Codes> codes = nn::RunInterruptible(stop_, [&] {
      // Every segment that starts before the end, short ones included.
      return EncodeWhile([&] { return next_offset_ < samples_; });
    });
    if (codes.ok()) codes->num_samples = samples_;
    return codes;
  }

 private:
  template <typename More>
  Codes EncodeWhile(More more) {
    c10::InferenceMode inference;
    at::Tensor codes;
    std::vector<float> scales;
    while (more()) {
      const int64_t length = std::min(segment_ > 0 ? segment_ : samples_, TimeLength(buffer_));
      auto [segment_codes, scale] = model_->EncodeSegment(buffer_.narrow(-1, 0, length), n_q_);
      codes = CatTime(codes, segment_codes);
      if (scale) scales.push_back(*scale);
      const int64_t advance = segment_ > 0 ? stride_ : samples_;
      const int64_t dropped = std::min(advance, TimeLength(buffer_));
      buffer_ = buffer_.narrow(-1, dropped, TimeLength(buffer_) - dropped);
      next_offset_ += advance;
    }
    return CodesOf(codes, n_q_, std::move(scales));
  }

  const std::shared_ptr<const EncodecModel> model_;
  const CodecDescription description_;
  const int n_q_;
  const StopCheck stop_;
  const int64_t segment_;  // 0: one segment, the whole stream.
  const int64_t stride_;
  int64_t samples_ = 0;
  int64_t next_offset_ = 0;  // Where the next segment starts; buffer_ starts there.
  at::Tensor buffer_;        // [channels, samples].
};

class SegmentDecodeStream final : public DecodeStream {
 public:
  SegmentDecodeStream(std::shared_ptr<const EncodecModel> model, CodecDescription description,
                      int64_t num_samples, StopCheck stop)
      : model_(std::move(model)),
        description_(std::move(description)),
        num_samples_(num_samples),
        stop_(std::move(stop)),
        segment_(model_->config().segment_length() > 0 ? model_->config().segment_length()
                                                       : num_samples),
        stride_(model_->config().segment_length() > 0 ? model_->config().segment_stride()
                                                      : num_samples),
        segments_((num_samples - 1) / stride_ + 1) {}

  absl::StatusOr<Audio> Push(const Codes& codes) override {
    RETURN_IF_ERROR(nn::ValidateCodesChunk(codes, description_, codebooks_));
    const CodeLevel& level = codes.levels[0];
    const int64_t frames_left = FramesFrom(decoded_) - TimeLength(pending_codes_);
    if (level.frames > frames_left ||
        static_cast<int64_t>(codes.scales.size()) >
            segments_ - decoded_ - static_cast<int64_t>(pending_scales_.size())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the codes run past the ", num_samples_, " samples of the stream's config (",
          segments_, " segments of ", FramesFrom(0), " frames in all)"));
    }
    pending_scales_.insert(pending_scales_.end(), codes.scales.begin(), codes.scales.end());
    return nn::RunInterruptible(stop_, [&] {
      c10::InferenceMode inference;
      pending_codes_ = CatTime(pending_codes_, nn::TensorFromLevel(level));
      return DecodeReadySegments();
    });
  }

  absl::StatusOr<Audio> Finish() override {
    if (decoded_ < segments_ || TimeLength(pending_codes_) > 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the stream ended after ", decoded_, " of the ", segments_,
          " segments its num_samples (", num_samples_, ") makes, with ",
          TimeLength(pending_codes_), " frames and ", pending_scales_.size(),
          " scales left over"));
    }
    return nn::AudioFromTensor(at::zeros({description_.channels, 0}), description_.sample_rate);
  }

 private:
  // Segment i's samples and frames; computed, not listed, so that a huge
  // num_samples costs nothing until codes for it arrive.
  int64_t SegmentLength(int64_t i) const { return std::min(segment_, num_samples_ - i * stride_); }
  int64_t SegmentFrames(int64_t i) const {
    const int64_t hop = description_.hop_length;
    return (SegmentLength(i) + hop - 1) / hop;
  }
  // Frames of segments [first, segments_): all whole but the last.
  int64_t FramesFrom(int64_t first) const {
    if (first >= segments_) return 0;
    return (segments_ - 1 - first) * SegmentFrames(0) + SegmentFrames(segments_ - 1);
  }

  Audio DecodeReadySegments() {
    at::Tensor out;
    const bool scaled = model_->config().normalize;
    while (decoded_ < segments_ && TimeLength(pending_codes_) >= SegmentFrames(decoded_) &&
           (!scaled || !pending_scales_.empty())) {
      const int64_t frames = SegmentFrames(decoded_);
      std::optional<float> scale;
      if (scaled) {
        scale = pending_scales_.front();
        pending_scales_.pop_front();
      }
      const at::Tensor audio = model_->DecodeSegment(pending_codes_.narrow(-1, 0, frames), scale);
      pending_codes_ = pending_codes_.narrow(-1, frames, TimeLength(pending_codes_) - frames);
      out = CatTime(out, OverlapAdd(audio));
      ++decoded_;
    }
    if (TimeLength(out) == 0) out = at::zeros({description_.channels, 0});
    const int64_t keep = std::min(TimeLength(out), num_samples_ - emitted_);
    emitted_ += keep;
    return nn::AudioFromTensor(out.narrow(-1, 0, keep).contiguous(), description_.sample_rate);
  }

  // Adds segment `decoded_` (its audio) into the running overlap-add, in
  // upstream's order of operations, and returns the samples that are final.
  at::Tensor OverlapAdd(const at::Tensor& audio) {
    if (segments_ == 1) return audio;  // Offline joins nothing either.
    if (!weight_.defined()) weight_ = OverlapWeight(audio.size(-1), audio.device());
    const int64_t stride = stride_;
    const int64_t start = decoded_ * stride - accumulated_from_;
    const int64_t end = start + audio.size(-1);
    if (TimeLength(sum_) < end) {
      const int64_t grow = end - TimeLength(sum_);
      sum_ = CatTime(sum_, at::zeros({audio.size(0), grow}, audio.options()));
      weight_sum_ = CatTime(weight_sum_, at::zeros({grow}, audio.options()));
    }
    const at::Tensor w = weight_.slice(0, 0, audio.size(-1));
    sum_.narrow(-1, start, audio.size(-1)) += w * audio;
    weight_sum_.narrow(0, start, audio.size(-1)) += w;
    const bool last = decoded_ + 1 == segments_;
    const int64_t final_end = last ? TimeLength(sum_) : start + stride;
    const at::Tensor out = sum_.narrow(-1, 0, final_end) / weight_sum_.narrow(0, 0, final_end);
    sum_ = sum_.narrow(-1, final_end, TimeLength(sum_) - final_end).clone();
    weight_sum_ = weight_sum_.narrow(0, final_end, TimeLength(weight_sum_) - final_end).clone();
    accumulated_from_ += final_end;
    return out;
  }

  const std::shared_ptr<const EncodecModel> model_;
  const CodecDescription description_;
  const int64_t num_samples_;
  const StopCheck stop_;
  const int64_t segment_;
  const int64_t stride_;
  const int64_t segments_;
  std::vector<int> codebooks_;  // Per level, set by the first chunk.
  at::Tensor pending_codes_;  // [n_q, frames] not yet decoded.
  std::deque<float> pending_scales_;
  int64_t decoded_ = 0;  // Segments decoded.
  at::Tensor weight_;   // The first segment's overlap-add weight, as upstream.
  at::Tensor sum_;      // Weighted audio from accumulated_from_ on.
  at::Tensor weight_sum_;
  int64_t accumulated_from_ = 0;
  int64_t emitted_ = 0;
};

}  // namespace

std::unique_ptr<EncodeStream> OpenSegmentEncodeStream(std::shared_ptr<const EncodecModel> model,
                                                      CodecDescription description, int n_q,
                                                      StopCheck stop) {
  return std::make_unique<SegmentEncodeStream>(std::move(model), std::move(description), n_q,
                                               std::move(stop));
}

absl::StatusOr<std::unique_ptr<DecodeStream>> OpenSegmentDecodeStream(
    std::shared_ptr<const EncodecModel> model, CodecDescription description, int64_t num_samples,
    StopCheck stop) {
  if (num_samples <= 0) {
    return absl::InvalidArgumentError(
        "a segmented model's decode stream needs num_samples, the encoded length, to place its "
        "segments");
  }
  return std::make_unique<SegmentDecodeStream>(std::move(model), std::move(description),
                                               num_samples, std::move(stop));
}

}  // namespace codec::encodec
