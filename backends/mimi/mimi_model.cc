#include "backends/mimi/mimi_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/mimi/hf_layout.h"
#include "backends/nn/parameter_loading.h"
#include "backends/streaming/stream_conv.h"

namespace codec::mimi {
namespace {

torch::nn::Conv1d Projection(int64_t in, int64_t out) {
  return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1).bias(false));
}

// A chain of plain modules named `names`, the last holding `leaf`: the
// nesting of upstream's wrappers (StreamingConv1d > NormConv1d > Conv1d).
template <typename Leaf>
Leaf RegisterNested(torch::nn::Module& root, std::initializer_list<const char*> names, Leaf leaf) {
  torch::nn::Module* parent = &root;
  std::shared_ptr<torch::nn::Module> holder;
  auto name = names.begin();
  for (; std::next(name) != names.end(); ++name) {
    holder = parent->register_module(*name, std::make_shared<torch::nn::Module>());
    parent = holder.get();
  }
  return parent->register_module(*name, leaf);
}

}  // namespace

DownsampleImpl::DownsampleImpl(int64_t channels, int64_t stride) : stride_(stride) {
  conv_ = RegisterNested(
      *this, {"conv", "conv", "conv"},
      torch::nn::Conv1d(
          torch::nn::Conv1dOptions(channels, channels, 2 * stride).stride(stride).bias(false)));
}

at::Tensor DownsampleImpl::forward(const at::Tensor& x) const {
  // The stream's kernels on the whole input, so that a stream and the
  // offline encode round alike.
  const nn::StreamLayerPtr stream = OpenStream(nullptr);
  return nn::CatTime(stream->Push(x), stream->Finish());
}

nn::StreamLayerPtr DownsampleImpl::OpenStream(nn::NoiseSource*) const {
  nn::StreamConvSpec spec;
  spec.weight = conv_->weight;
  spec.stride = stride_;
  spec.left = stride_;  // Causal: kernel - stride steps before the first, copies of it.
  spec.mode = nn::PadMode::kReplicate;
  return std::make_unique<nn::StreamConv1d>(std::move(spec));
}

namespace {

// The upsample's stream: the last input frame is all it keeps.
class UpsampleStream final : public nn::StreamLayer {
 public:
  explicit UpsampleStream(const UpsampleImpl& upsample) : upsample_(upsample) {}
  at::Tensor Push(const at::Tensor& x) override {
    if (nn::TimeLength(x) == 0) return {};
    if (!previous_.defined()) previous_ = at::zeros({x.size(0), x.size(1), 1}, x.options());
    const at::Tensor out = upsample_.Frames(x, previous_);
    previous_ = x.narrow(-1, x.size(-1) - 1, 1);
    return out;
  }
  at::Tensor Finish() override { return {}; }  // The trimmed tail is never output.
  void VisitState(nn::StreamStateVisitor& visitor) override { visitor.Rows(previous_, 0); }

 private:
  const UpsampleImpl& upsample_;
  at::Tensor previous_;
};

}  // namespace

UpsampleImpl::UpsampleImpl(int64_t channels, int64_t stride) : stride_(stride) {
  convtr_ = RegisterNested(
      *this, {"convtr", "convtr", "convtr"},
      torch::nn::ConvTranspose1d(torch::nn::ConvTranspose1dOptions(channels, channels, 2 * stride)
                                     .stride(stride)
                                     .groups(channels)
                                     .bias(false)));
}

at::Tensor UpsampleImpl::forward(const at::Tensor& x) const {
  return Frames(x, at::zeros({x.size(0), x.size(1), 1}, x.options()));
}

at::Tensor UpsampleImpl::Frames(const at::Tensor& x, const at::Tensor& previous) const {
  const at::Tensor weight = convtr_->weight.squeeze(1);  // [C, 2 stride]
  const at::Tensor earlier = at::cat({previous, x.narrow(-1, 0, x.size(-1) - 1)}, -1);
  const at::Tensor own = x.unsqueeze(-1) * weight.narrow(1, 0, stride_).unsqueeze(1);
  const at::Tensor carried =
      earlier.unsqueeze(-1) * weight.narrow(1, stride_, stride_).unsqueeze(1);
  return (own + carried).reshape({x.size(0), x.size(1), x.size(-1) * stride_});
}

nn::StreamLayerPtr UpsampleImpl::OpenStream(nn::NoiseSource*) const {
  return std::make_unique<UpsampleStream>(*this);
}

ProjectedRvqImpl::ProjectedRvqImpl(const MimiConfig& config, int64_t levels) {
  input_proj_ =
      register_module("input_proj", Projection(config.dimension, config.quantizer_dimension));
  rvq_ = register_module("rvq", nn::EuclideanRvq(config.quantizer_dimension, config.bins, levels));
  output_proj_ =
      register_module("output_proj", Projection(config.quantizer_dimension, config.dimension));
}

at::Tensor ProjectedRvqImpl::Encode(const at::Tensor& latent, int64_t n_q) const {
  return rvq_->Encode(input_proj_.ptr()->forward(latent), n_q);
}

at::Tensor ProjectedRvqImpl::Decode(const at::Tensor& codes) const {
  return output_proj_.ptr()->forward(rvq_->Decode(codes).contiguous());
}

MimiModel::MimiModel(MimiConfig config) : config_(std::move(config)) {
  const encodec::EncodecConfig seanet = config_.Seanet();
  const int64_t stride = config_.downsample_stride();
  encoder_ = register_module("encoder", encodec::SeanetEncoder(seanet));
  encoder_transformer_ =
      register_module("encoder_transformer", ProjectedTransformer(config_.transformer));
  downsample_ = register_module("downsample", Downsample(config_.dimension, stride));
  auto quantizer = register_module("quantizer", std::make_shared<torch::nn::Module>());
  semantic_ = quantizer->register_module("rvq_first", ProjectedRvq(config_, 1));
  acoustic_ =
      quantizer->register_module("rvq_rest", ProjectedRvq(config_, config_.quantizer_n_q - 1));
  upsample_ = register_module("upsample", Upsample(config_.dimension, stride));
  decoder_transformer_ =
      register_module("decoder_transformer", ProjectedTransformer(config_.transformer));
  decoder_ = register_module("decoder", encodec::SeanetDecoder(seanet));
}

at::Tensor MimiModel::EncodeLatent(const at::Tensor& audio) const {
  c10::InferenceMode inference;
  const int64_t hop = config_.hop_length();
  const int64_t padded = (audio.size(-1) + hop - 1) / hop * hop;
  const at::Tensor x = at::constant_pad_nd(nn::ToDevice(audio, nn::DeviceOf(*this)),
                                           {0, padded - audio.size(-1)}, 0.0)
                           .unsqueeze(0);
  at::Tensor latent = encoder_.ptr()->forward(x);
  latent = encoder_transformer_.ptr()->forward(latent);
  return downsample_.ptr()->forward(latent).squeeze(0);
}

at::Tensor MimiModel::Encode(const at::Tensor& audio, int64_t n_q) const {
  c10::InferenceMode inference;
  return Quantize(EncodeLatent(audio).unsqueeze(0), static_cast<int>(n_q)).front().squeeze(0);
}

at::Tensor MimiModel::Decode(const at::Tensor& codes) const {
  c10::InferenceMode inference;
  at::Tensor latent = Dequantize({codes.unsqueeze(0)});
  latent = upsample_.ptr()->forward(latent);
  latent = decoder_transformer_.ptr()->forward(latent);
  return decoder_.ptr()->forward(latent).squeeze(0);
}

Codes MimiModel::EncodeCodes(const at::Tensor& audio, int n_q) const {
  Codes codes;
  codes.levels.push_back(nn::LevelFromTensor(Encode(audio, n_q)));
  codes.num_samples = audio.size(-1);
  return codes;
}

at::Tensor MimiModel::DecodeCodes(const Codes& codes, nn::NoiseSource /*noise*/) const {
  at::Tensor decoded = Decode(nn::TensorFromLevel(codes.levels[0]));
  if (codes.num_samples > 0 && codes.num_samples < decoded.size(-1)) {
    decoded = decoded.narrow(-1, 0, codes.num_samples);
  }
  return decoded;
}

std::vector<at::Tensor> MimiModel::Quantize(const at::Tensor& latent, int n_q) const {
  // [1, B, F] -> [B, 1, F]: a view, contiguous (its moved dimension is 1).
  const at::Tensor semantic = semantic_->Encode(latent, 1).transpose(0, 1);
  if (n_q == 1) return {semantic};
  return {at::cat({semantic, acoustic_->Encode(latent, n_q - 1).transpose(0, 1)}, 1)};
}

at::Tensor MimiModel::Dequantize(const std::vector<at::Tensor>& levels) const {
  const at::Tensor codes = levels.front().transpose(0, 1);  // [n_q, B, F]
  at::Tensor latent = semantic_->Decode(codes.narrow(0, 0, 1));
  if (codes.size(0) > 1) {
    latent = latent + acoustic_->Decode(codes.narrow(0, 1, codes.size(0) - 1));
  }
  return latent;
}

nn::EncodeStreamParts MimiModel::EncodeStreamParts(int n_q) const {
  nn::EncodeStreamParts parts;
  std::vector<nn::StreamLayerPtr> layers;
  layers.push_back(encoder_->OpenStream(nullptr));
  layers.push_back(encoder_transformer_->OpenStream(nullptr));
  layers.push_back(downsample_->OpenStream(nullptr));
  parts.encoder = std::make_unique<nn::StreamSequential>(std::move(layers));
  parts.quantize = [this, n_q](const at::Tensor& latent) { return Quantize(latent, n_q); };
  parts.pad_multiple = config_.hop_length();
  return parts;
}

nn::DecodeStreamParts MimiModel::DecodeStreamParts() const {
  nn::DecodeStreamParts parts;
  parts.dequantize = [this](const std::vector<at::Tensor>& levels) { return Dequantize(levels); };
  parts.open_decoder = [this](nn::NoiseSource*) -> nn::StreamLayerPtr {
    std::vector<nn::StreamLayerPtr> layers;
    layers.push_back(upsample_->OpenStream(nullptr));
    layers.push_back(decoder_transformer_->OpenStream(nullptr));
    layers.push_back(decoder_->OpenStream(nullptr));
    return std::make_unique<nn::StreamSequential>(std::move(layers));
  };
  return parts;
}

absl::StatusOr<io::StateDict> MimiStateDict(const io::StateDict& published) {
  // "<half>.vq.layers.<i>._codebook.<buffer>": the codebooks' training
  // state, renamed to nn::EuclideanCodebook's, centroids derived.
  const std::string kCodebook = "._codebook.";
  io::StateDict dict;
  for (const auto& [name, tensor] : published) {
    const size_t at = name.find(kCodebook);
    const size_t vq = name.find(".vq.layers.");
    if (at == std::string::npos || vq == std::string::npos) {
      dict.emplace(name, tensor);
      continue;
    }
    const std::string prefix =
        name.substr(0, vq) + ".rvq" + name.substr(vq, at + kCodebook.size() - vq);
    const std::string buffer = name.substr(at + kCodebook.size());
    if (buffer == "_initialized") {
      dict.emplace(prefix + "inited", tensor);
    } else if (buffer == "cluster_usage") {
      dict.emplace(prefix + "cluster_size", tensor);
    } else if (buffer == "embedding_sum") {
      const std::string usage_name = name.substr(0, at + kCodebook.size()) + "cluster_usage";
      auto usage = published.find(usage_name);
      if (usage == published.end() || usage->second.dim() != 1 || tensor.dim() != 2 ||
          usage->second.size(0) != tensor.size(0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Mimi checkpoint: ", name,
                         " needs a cluster_usage of one value per entry (", usage_name, ")"));
      }
      const at::Tensor usage_values = usage->second.to(at::kFloat).clamp_min(1e-5).unsqueeze(1);
      dict.emplace(prefix + "embed", tensor.to(at::kFloat) / usage_values);
      dict.emplace(prefix + "embed_avg", tensor);
    } else {
      dict.emplace(name, tensor);  // Unexpected: LoadParameters names it.
    }
  }
  return dict;
}

CodecDescription DescribeMimi(const MimiConfig& config) {
  CodecDescription d;
  d.family = "mimi";
  d.sample_rate = config.sample_rate;
  d.channels = config.channels;
  d.hop_length = config.hop_length();
  d.codebook_size = config.bins;
  d.codebooks_per_level = {config.quantizer_n_q};
  d.frame_rates = {config.frame_rate};
  d.level_strides = {1};
  for (int n_q = 1; n_q <= config.quantizer_n_q; ++n_q) {
    // Rounded so that 3 levels of 0.1 kbps read 0.3, as a client writes it.
    d.bandwidths_kbps.push_back(std::round(n_q * config.level_kbps() * 1e6) / 1e6);
  }
  return d;
}

absl::StatusOr<std::shared_ptr<MimiModel>> BuildMimiModel(const MimiConfig& config,
                                                          io::Checkpoint checkpoint) {
  RETURN_IF_ERROR(config.Validate());
  auto model = std::make_shared<MimiModel>(config);
  if (IsHuggingFaceLayout(checkpoint.tensors)) {
    ASSIGN_OR_RETURN(checkpoint.tensors, PublishedFromHuggingFace(checkpoint.tensors, config));
  }
  ASSIGN_OR_RETURN(io::StateDict dict, MimiStateDict(checkpoint.tensors));
  checkpoint.tensors.clear();
  RETURN_IF_ERROR(nn::LoadParameters(*model, dict));
  model->eval();
  return model;
}

}  // namespace codec::mimi
