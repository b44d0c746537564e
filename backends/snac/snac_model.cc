#include "backends/snac/snac_model.h"

#include <ATen/ATen.h>

#include <numeric>

#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/nn/parameter_loading.h"
#include "backends/nn/weight_norm.h"
#include "backends/streaming/receptive_field.h"

namespace codec::snac {
namespace {

std::vector<int64_t> Strides(const SnacConfig& config) {
  return std::vector<int64_t>(config.vq_strides.begin(), config.vq_strides.end());
}

}  // namespace

int64_t FramesPerGroup(const SnacConfig& config) {
  int64_t group = 1;
  for (int stride : config.vq_strides) group = std::lcm(group, static_cast<int64_t>(stride));
  return group;
}

CodecDescription DescribeSnac(const SnacConfig& config) {
  CodecDescription d = config.Describe();
  const int64_t group = FramesPerGroup(config);
  d.encode_lookahead_samples =
      nn::EncoderLookaheadSamples(EncoderReach(config), config.hop_length(), group);
  d.decode_lookahead_frames = nn::DecoderLookaheadFrames(nn::SnakeDecoderReach(DecoderSpec(config)),
                                                         config.hop_length(), group);
  return d;
}

SnacModel::SnacModel(SnacConfig config) : config_(std::move(config)) {
  encoder_ = register_module("encoder", Encoder(config_));
  quantizer_ = register_module("quantizer",
                               nn::FactorizedRvq(config_.latent_channels(), config_.codebook_size,
                                                 config_.codebook_dim, Strides(config_)));
  decoder_ = register_module("decoder", nn::SnakeDecoder(DecoderSpec(config_)));
}

Codes SnacModel::EncodeCodes(const at::Tensor& audio, int /*n_q*/) const {
  c10::InferenceMode inference;
  const int64_t length = audio.size(-1);
  const int64_t multiple = config_.pad_multiple();
  const int64_t padded = (length + multiple - 1) / multiple * multiple;
  const at::Tensor x = at::constant_pad_nd(nn::ToDevice(audio, nn::DeviceOf(*this)).unsqueeze(0),
                                           {0, padded - length}, 0.0);
  Codes codes = nn::CodesBatchFromLevels(Quantize(encoder_.ptr()->forward(x))).front();
  codes.num_samples = length;
  return codes;
}

std::vector<at::Tensor> SnacModel::Quantize(const at::Tensor& latent) const {
  std::vector<at::Tensor> levels;  // One codebook per level: [B, F_l] -> [B, 1, F_l].
  for (const at::Tensor& level : quantizer_->Encode(latent, quantizer_->num_quantizers())) {
    levels.push_back(level.unsqueeze(1));
  }
  return levels;
}

nn::EncodeStreamParts SnacModel::EncodeStreamParts(int) const {
  nn::EncodeStreamParts parts;
  // The quantiser takes whole groups of frames: the rest waits in the
  // stream's state, stacked with its neighbours'.
  std::vector<nn::StreamLayerPtr> layers;
  layers.push_back(encoder_->OpenStream(nullptr));
  layers.push_back(std::make_unique<nn::StreamWindowed>(FramesPerGroup(config_),
                                                         [](const at::Tensor& x) { return x; }));
  parts.encoder = std::make_unique<nn::StreamSequential>(std::move(layers));
  parts.quantize = [this](const at::Tensor& latent) { return Quantize(latent); };
  parts.pad_multiple = config_.pad_multiple();
  return parts;
}

nn::DecodeStreamParts SnacModel::DecodeStreamParts() const {
  nn::DecodeStreamParts parts;
  parts.dequantize = [this](const std::vector<at::Tensor>& levels) { return Dequantize(levels); };
  parts.open_decoder = [this](nn::NoiseSource* noise) { return decoder_->OpenStream(noise); };
  parts.frame_multiple = config_.attn_window_size.value_or(1);
  return parts;
}

at::Tensor SnacModel::Dequantize(const std::vector<at::Tensor>& levels) const {
  std::vector<at::Tensor> codes;
  for (const at::Tensor& level : levels) codes.push_back(level.select(1, 0));
  return quantizer_->Decode(codes);
}

at::Tensor SnacModel::DecodeCodes(const Codes& codes, nn::NoiseSource noise) const {
  c10::InferenceMode inference;
  const at::Tensor latent = Dequantize(nn::LevelBatchToDevice({&codes}, nn::DeviceOf(*this)));
  at::Tensor out = decoder_.ptr()->forward(latent, noise).squeeze(0);
  if (codes.num_samples > 0 && codes.num_samples < out.size(-1)) {
    out = out.slice(-1, 0, codes.num_samples);
  }
  return out.contiguous();
}

absl::StatusOr<std::shared_ptr<SnacModel>> BuildSnacModel(const SnacConfig& config,
                                                          io::Checkpoint checkpoint) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(nn::FoldWeightNorm(checkpoint.tensors));
  auto model = std::make_shared<SnacModel>(config);
  RETURN_IF_ERROR(nn::LoadParameters(*model, checkpoint.tensors));
  model->eval();
  return model;
}

}  // namespace codec::snac
