#include "backends/dac/dac_model.h"

#include <ATen/ATen.h>

#include <cmath>

#include "backends/core/status_macros.h"
#include "backends/dac/hf_layout.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/nn/parameter_loading.h"
#include "backends/nn/snake.h"
#include "backends/nn/weight_norm.h"
#include "backends/streaming/receptive_field.h"

namespace codec::dac {
namespace {

// Upstream's Encoder, whose parameters live directly under "block.<i>".
torch::nn::Sequential MakeEncoder(const DacConfig& config) {
  torch::nn::Sequential block;
  int64_t dim = config.encoder_dim;
  block->push_back(nn::PaddedConv(1, dim, 7, 3));
  for (int stride : config.encoder_rates) {
    block->push_back(nn::EncoderBlock(dim, stride, /*groups=*/1));
    dim *= 2;
  }
  block->push_back(nn::Snake1d(dim));
  block->push_back(nn::PaddedConv(dim, config.latent_channels(), 3, 1));
  return block;
}

nn::SnakeDecoderSpec DecoderSpec(const DacConfig& config) {
  nn::SnakeDecoderSpec spec;
  spec.latent_dim = config.latent_channels();
  spec.channels = config.decoder_dim;
  spec.rates = config.decoder_rates;
  return spec;
}

// Runs `fn` over windows of `chunking.chunk_frames` frames of `input`
// (`scale` input steps per frame), each with context on both sides, and
// joins the windows' own parts of the outputs (`out_scale` output steps per
// frame) along the last dimension.
template <typename Fn>
at::Tensor Chunked(const at::Tensor& input, int64_t frames, int64_t scale, int64_t out_scale,
                   const Chunking& chunking, Fn fn) {
  if (frames <= chunking.chunk_frames) return fn(input);
  std::vector<at::Tensor> parts;
  for (int64_t first = 0; first < frames; first += chunking.chunk_frames) {
    const int64_t last = std::min(frames, first + chunking.chunk_frames);
    const int64_t begin = std::max<int64_t>(0, first - chunking.context_frames);
    const int64_t end = std::min(frames, last + chunking.context_frames);
    const at::Tensor out =
        fn(input.slice(-1, begin * scale, std::min(input.size(-1), end * scale)));
    const int64_t keep_begin = (first - begin) * out_scale;
    const int64_t keep_end = std::min(out.size(-1), (last - begin) * out_scale);
    parts.push_back(out.slice(-1, keep_begin, keep_end));
  }
  return at::cat(parts, -1);
}

}  // namespace

CodecDescription DescribeDac(const DacConfig& config) {
  CodecDescription d = config.Describe();
  std::vector<nn::LayerReach> encoder;
  nn::AppendEncoderBlocksReach(config.encoder_rates, encoder);
  encoder.push_back(nn::LayerReach::Conv(3, 1, 1, 1));
  d.encode_lookahead_samples = nn::EncoderLookaheadSamples(encoder, config.hop_length(), 1);
  d.decode_lookahead_frames = nn::DecoderLookaheadFrames(nn::SnakeDecoderReach(DecoderSpec(config)),
                                                         config.hop_length(), 1);
  return d;
}

Chunking Chunking::Default(const DacConfig& config) {
  const double frame_rate = static_cast<double>(config.sample_rate) / config.hop_length();
  return {static_cast<int64_t>(std::ceil(10 * frame_rate)),
          static_cast<int64_t>(std::ceil(frame_rate))};
}

DacModel::DacModel(DacConfig config, Chunking chunking)
    : config_(std::move(config)), chunking_(chunking) {
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  encoder_ = encoder->register_module("block", MakeEncoder(config_));
  quantizer_ =
      register_module("quantizer", nn::FactorizedRvq(config_.latent_channels(),
                                                     config_.codebook_size, config_.codebook_dim,
                                                     std::vector<int64_t>(config_.n_codebooks, 1)));
  decoder_ = register_module("decoder", nn::SnakeDecoder(DecoderSpec(config_)));
}

at::Tensor DacModel::EncodeLatent(const at::Tensor& x) const {
  const int64_t hop = config_.hop_length();
  return Chunked(x, x.size(-1) / hop, hop, 1, chunking_,
                 [&](const at::Tensor& window) { return encoder_.ptr()->forward(window); });
}

at::Tensor DacModel::DecodeLatent(const at::Tensor& z) const {
  return Chunked(z, z.size(-1), 1, config_.hop_length(), chunking_, [&](const at::Tensor& window) {
    nn::NoiseSource no_noise;
    return decoder_.ptr()->forward(window, no_noise);
  });
}

Codes DacModel::EncodeCodes(const at::Tensor& audio, int64_t n_q) const {
  c10::InferenceMode inference;
  const int64_t length = audio.size(-1);
  const int64_t hop = config_.hop_length();
  const int64_t padded = (length + hop - 1) / hop * hop;
  const at::Tensor x = at::constant_pad_nd(nn::ToDevice(audio, nn::DeviceOf(*this)).unsqueeze(0),
                                           {0, padded - length}, 0.0);
  Codes out = nn::CodesBatchFromLevels(Quantize(EncodeLatent(x), n_q)).front();
  out.num_samples = length;
  return out;
}

std::vector<at::Tensor> DacModel::Quantize(const at::Tensor& latent, int64_t n_q) const {
  return {at::stack(quantizer_->Encode(latent, n_q), 1)};  // n_q x [B, F] -> [B, n_q, F]
}

at::Tensor DacModel::Dequantize(const std::vector<at::Tensor>& levels) const {
  return quantizer_->Decode(levels.front().unbind(1));  // [B, n_q, F] -> n_q x [B, F]
}

nn::EncodeStreamParts DacModel::EncodeStreamParts(int n_q) const {
  nn::EncodeStreamParts parts;
  parts.encoder = nn::OpenModuleStream(*encoder_, nullptr);
  parts.quantize = [this, n_q](const at::Tensor& latent) { return Quantize(latent, n_q); };
  parts.pad_multiple = config_.hop_length();
  return parts;
}

nn::DecodeStreamParts DacModel::DecodeStreamParts() const {
  nn::DecodeStreamParts parts;
  parts.dequantize = [this](const std::vector<at::Tensor>& levels) { return Dequantize(levels); };
  parts.open_decoder = [this](nn::NoiseSource*) { return decoder_->OpenStream(nullptr); };
  return parts;
}

at::Tensor DacModel::DecodeCodes(const Codes& codes, nn::NoiseSource /*noise*/) const {
  c10::InferenceMode inference;
  at::Tensor out =
      DecodeLatent(Dequantize(nn::LevelBatchToDevice({&codes}, nn::DeviceOf(*this)))).squeeze(0);
  if (codes.num_samples > 0 && codes.num_samples < out.size(-1)) {
    out = out.slice(-1, 0, codes.num_samples);
  }
  return out.contiguous();
}

absl::StatusOr<std::shared_ptr<DacModel>> BuildDacModel(const DacConfig& config,
                                                        const Chunking& chunking,
                                                        io::Checkpoint checkpoint) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(nn::FoldWeightNorm(checkpoint.tensors));
  auto model = std::make_shared<DacModel>(config, chunking);
  nn::CheckpointNaming naming;
  if (IsHuggingFaceLayout(checkpoint.tensors)) {
    naming = [&config](const std::string& name) { return HuggingFaceName(name, config); };
  }
  RETURN_IF_ERROR(nn::LoadParameters(*model, checkpoint.tensors, naming));
  model->eval();
  return model;
}

}  // namespace codec::dac
