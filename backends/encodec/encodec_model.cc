#include "backends/encodec/encodec_model.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/encodec/hf_layout.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/nn/parameter_loading.h"
#include "backends/nn/weight_norm.h"
#include "backends/streaming/receptive_field.h"

namespace codec::encodec {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Upstream's triangular-window overlap-add of decoded segments.
at::Tensor LinearOverlapAdd(const std::vector<at::Tensor>& frames, int64_t stride) {
  const int64_t total = stride * static_cast<int64_t>(frames.size() - 1) + frames.back().size(-1);
  const at::Tensor weight = OverlapWeight(frames[0].size(-1), frames[0].device());
  at::Tensor sum_weight = at::zeros({total}, frames[0].options());
  at::Tensor out = at::zeros({frames[0].size(0), total}, frames[0].options());
  int64_t offset = 0;
  for (const at::Tensor& frame : frames) {
    const int64_t length = frame.size(-1);
    const at::Tensor w = weight.slice(0, 0, length);
    out.slice(-1, offset, offset + length) += w * frame;
    sum_weight.slice(0, offset, offset + length) += w;
    offset += stride;
  }
  return out / sum_weight;
}

}  // namespace

at::Tensor OverlapWeight(int64_t length, at::Device device) {
  // Made on the host, as upstream's, then moved.
  const at::Tensor t = at::linspace(0, 1, length + 2).slice(0, 1, -1);
  return (0.5 - (t - 0.5).abs()).to(device);
}

CodecDescription DescribeEncodec(const EncodecConfig& config) {
  CodecDescription d = config.Describe();
  const int64_t hop = config.hop_length();
  if (config.normalize) {
    // Segment by segment: a segment's codes wait for all its samples, and
    // the audio a segment shares with the next waits for that one's codes.
    if (config.segment_length() == 0) return d;  // Whole-input scale: no lookahead bound.
    const int64_t frames = (config.segment_length() + hop - 1) / hop;
    d.encode_lookahead_samples = config.segment_length() - hop;
    const int64_t shared_from = config.segment_stride() / hop;  // First frame the next overlaps.
    d.decode_lookahead_frames =
        std::max(frames - 1, shared_from < frames ? 2 * frames - 1 - shared_from : 0);
    return d;
  }
  d.encode_lookahead_samples = nn::EncoderLookaheadSamples(SeanetEncoderReach(config), hop, 1);
  d.decode_lookahead_frames = nn::DecoderLookaheadFrames(SeanetDecoderReach(config), hop, 1);
  return d;
}

EncodecModel::EncodecModel(EncodecConfig config) : config_(std::move(config)) {
  encoder_ = register_module("encoder", SeanetEncoder(config_));
  decoder_ = register_module("decoder", SeanetDecoder(config_));
  quantizer_ = register_module(
      "quantizer",
      nn::EuclideanRvq(config_.hidden_size, config_.codebook_size, config_.num_quantizers()));
}

std::pair<at::Tensor, std::optional<float>> EncodecModel::EncodeSegment(const at::Tensor& audio,
                                                                        int n_q) const {
  at::Tensor x = nn::ToDevice(audio, nn::DeviceOf(*this)).unsqueeze(0);
  std::optional<float> scale;
  if (config_.normalize) {
    const at::Tensor mono = x.mean(1, /*keepdim=*/true);
    const at::Tensor rms = mono.pow(2).mean(2, /*keepdim=*/true).sqrt() + 1e-8;
    x = x / rms;
    scale = rms.item<float>();
  }
  return {Quantize(encoder_.ptr()->forward(x), n_q).front().squeeze(0), scale};
}

std::vector<at::Tensor> EncodecModel::Quantize(const at::Tensor& latent, int n_q) const {
  return {quantizer_.ptr()->Encode(latent, n_q).transpose(0, 1)};  // [n_q, B, F] -> [B, n_q, F]
}

at::Tensor EncodecModel::Dequantize(const std::vector<at::Tensor>& levels) const {
  return quantizer_.ptr()->Decode(levels.front().transpose(0, 1));
}

nn::EncodeStreamParts EncodecModel::EncodeStreamParts(int n_q) const {
  nn::EncodeStreamParts parts;
  parts.encoder = encoder_->OpenStream(nullptr);
  parts.quantize = [this, n_q](const at::Tensor& latent) { return Quantize(latent, n_q); };
  return parts;
}

nn::DecodeStreamParts EncodecModel::DecodeStreamParts() const {
  nn::DecodeStreamParts parts;
  parts.dequantize = [this](const std::vector<at::Tensor>& levels) { return Dequantize(levels); };
  parts.open_decoder = [this](nn::NoiseSource*) { return decoder_->OpenStream(nullptr); };
  return parts;
}

std::vector<int64_t> EncodecModel::SegmentLengthsFor(int64_t num_samples) const {
  const int64_t segment = config_.segment_length() > 0 ? config_.segment_length() : num_samples;
  const int64_t stride = config_.segment_length() > 0 ? config_.segment_stride() : num_samples;
  std::vector<int64_t> lengths;
  for (int64_t offset = 0; offset < num_samples; offset += stride) {
    lengths.push_back(std::min(segment, num_samples - offset));
  }
  return lengths;
}

Codes EncodecModel::EncodeCodes(const at::Tensor& audio, int n_q) const {
  c10::InferenceMode inference;
  const int64_t length = audio.size(-1);
  Codes codes;
  codes.num_samples = length;
  std::vector<at::Tensor> segment_codes;
  int64_t offset = 0;
  for (int64_t segment : SegmentLengthsFor(length)) {
    auto [segment_code, scale] = EncodeSegment(audio.slice(-1, offset, offset + segment), n_q);
    segment_codes.push_back(segment_code);
    if (scale) codes.scales.push_back(*scale);
    offset += config_.segment_length() > 0 ? config_.segment_stride() : length;
  }
  codes.levels.push_back(nn::LevelFromTensor(at::cat(segment_codes, /*dim=*/1)));
  return codes;
}

absl::StatusOr<std::vector<int64_t>> EncodecModel::SegmentLengths(const Codes& codes) const {
  const int64_t frames = codes.levels[0].frames;
  const int64_t hop = config_.hop_length();
  if (config_.segment_length() == 0) return std::vector<int64_t>{frames * hop};
  const int64_t segment = config_.segment_length();
  // The segment boundaries follow from the encoded length alone; without it
  // they are ambiguous (a trailing short segment may or may not exist).
  if (codes.num_samples <= 0) {
    return absl::InvalidArgumentError(
        "codes of a segmented model must carry num_samples, the encoded length");
  }
  const int64_t length = codes.num_samples;
  const std::vector<int64_t> lengths = SegmentLengthsFor(length);
  int64_t total_frames = 0;
  for (int64_t segment_samples : lengths) total_frames += CeilDiv(segment_samples, hop);
  if (total_frames != frames || (config_.normalize && lengths.size() != codes.scales.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("codes do not fit this model's ", segment, "-sample segments: ", frames,
                     " frames and ", codes.scales.size(), " scales, but ", length, " samples make ",
                     lengths.size(), " segments of ", total_frames, " frames in all"));
  }
  return lengths;
}

at::Tensor EncodecModel::DecodeSegment(const at::Tensor& codes, std::optional<float> scale) const {
  at::Tensor out = decoder_.ptr()->forward(Dequantize({codes.unsqueeze(0)})).squeeze(0);
  return scale ? out * *scale : out;
}

absl::StatusOr<at::Tensor> EncodecModel::DecodeCodes(const Codes& codes,
                                                     nn::NoiseSource /*noise*/) const {
  c10::InferenceMode inference;
  ASSIGN_OR_RETURN(std::vector<int64_t> lengths, SegmentLengths(codes));
  const at::Tensor all_codes = nn::TensorFromLevel(codes.levels[0]);
  std::vector<at::Tensor> decoded;
  int64_t frame = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    const int64_t frames = CeilDiv(lengths[i], config_.hop_length());
    std::optional<float> scale;
    if (config_.normalize) scale = codes.scales[i];
    decoded.push_back(DecodeSegment(all_codes.slice(1, frame, frame + frames), scale));
    frame += frames;
  }
  at::Tensor out =
      decoded.size() == 1 ? decoded[0] : LinearOverlapAdd(decoded, config_.segment_stride());
  if (codes.num_samples > 0 && codes.num_samples < out.size(-1)) {
    out = out.slice(-1, 0, codes.num_samples);
  }
  return out.contiguous();
}

absl::StatusOr<std::shared_ptr<EncodecModel>> BuildEncodecModel(const EncodecConfig& config,
                                                                io::Checkpoint checkpoint) {
  RETURN_IF_ERROR(config.Validate());
  auto model = std::make_shared<EncodecModel>(config);
  RETURN_IF_ERROR(nn::FoldWeightNorm(checkpoint.tensors));
  RETURN_IF_ERROR(nn::LoadParameters(
      *model, checkpoint.tensors,
      IsHuggingFaceLayout(checkpoint.tensors) ? &HuggingFaceName : nn::CheckpointNaming()));
  model->eval();
  return model;
}

}  // namespace codec::encodec
