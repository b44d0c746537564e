#include "backends/mimi/mimi_config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "backends/core/config_bounds.h"
#include "backends/core/status_macros.h"
#include "backends/io/json_fields.h"

namespace codec::mimi {
namespace {

constexpr int64_t kMaxLevels = config_bounds::kMaxCodebooks;

constexpr config_bounds::FieldBounds kBounds("Mimi config");

// A field upstream offers but every Mimi sets one way; another value would
// be another network.
template <typename T>
absl::Status Require(const io::JsonFields& fields, const char* field, const T& only) {
  T value = only;
  RETURN_IF_ERROR(fields.Read(field, value));
  if (value == only) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("Mimi config: ", field, " must be ",
                                                 nlohmann::json(only).dump(), ", not ",
                                                 nlohmann::json(value).dump()));
}

absl::Status ReadSeanet(const nlohmann::json& json, MimiConfig& c) {
  const io::JsonFields fields(json, "Mimi seanet");
  RETURN_IF_ERROR(fields.Read("dimension", c.dimension));
  RETURN_IF_ERROR(fields.Read("n_filters", c.n_filters));
  RETURN_IF_ERROR(fields.Read("n_residual_layers", c.n_residual_layers));
  RETURN_IF_ERROR(fields.Read("ratios", c.ratios));
  RETURN_IF_ERROR(fields.Read("kernel_size", c.kernel_size));
  RETURN_IF_ERROR(fields.Read("residual_kernel_size", c.residual_kernel_size));
  RETURN_IF_ERROR(fields.Read("last_kernel_size", c.last_kernel_size));
  RETURN_IF_ERROR(fields.Read("dilation_base", c.dilation_base));
  RETURN_IF_ERROR(fields.Read("compress", c.compress));
  RETURN_IF_ERROR(fields.Read("true_skip", c.true_skip));
  RETURN_IF_ERROR(Require(fields, "causal", true));
  RETURN_IF_ERROR(Require(fields, "activation", std::string("ELU")));
  RETURN_IF_ERROR(Require(fields, "norm", std::string("none")));
  RETURN_IF_ERROR(Require(fields, "pad_mode", std::string("constant")));
  RETURN_IF_ERROR(Require(fields, "disable_norm_outer_blocks", 0));
  int channels = c.channels;
  RETURN_IF_ERROR(fields.Read("channels", channels));
  if (channels != c.channels) {
    return absl::InvalidArgumentError(absl::StrCat("Mimi config: seanet.channels is ", channels,
                                                   " but channels is ", c.channels));
  }
  return absl::OkStatus();
}

absl::Status ReadQuantizer(const nlohmann::json& json, MimiConfig& c) {
  const io::JsonFields fields(json, "Mimi quantizer");
  RETURN_IF_ERROR(fields.Read("dimension", c.quantizer_dimension));
  RETURN_IF_ERROR(fields.Read("n_q", c.quantizer_n_q));
  RETURN_IF_ERROR(fields.Read("bins", c.bins));
  RETURN_IF_ERROR(Require(fields, "input_dimension", c.dimension));
  return Require(fields, "output_dimension", c.dimension);
}

absl::Status ReadTransformer(const nlohmann::json& json, MimiConfig& c) {
  const io::JsonFields fields(json, "Mimi transformer");
  MimiTransformerConfig& t = c.transformer;
  RETURN_IF_ERROR(fields.Read("d_model", t.d_model));
  RETURN_IF_ERROR(fields.Read("num_heads", t.num_heads));
  RETURN_IF_ERROR(fields.Read("num_layers", t.num_layers));
  RETURN_IF_ERROR(fields.Read("dim_feedforward", t.dim_feedforward));
  RETURN_IF_ERROR(fields.Read("context", t.context));
  RETURN_IF_ERROR(fields.Read("max_period", t.max_period));
  RETURN_IF_ERROR(fields.Read("layer_scale", t.layer_scale));
  RETURN_IF_ERROR(Require(fields, "causal", true));
  RETURN_IF_ERROR(Require(fields, "conv_layout", true));
  RETURN_IF_ERROR(Require(fields, "gating", std::string("none")));
  RETURN_IF_ERROR(Require(fields, "norm", std::string("layer_norm")));
  RETURN_IF_ERROR(Require(fields, "positional_embedding", std::string("rope")));
  // Projections in and out are identities only at the latent width.
  RETURN_IF_ERROR(Require(fields, "input_dimension", c.dimension));
  return Require(fields, "output_dimensions", std::vector<int>{c.dimension});
}

// "attention_window": "offline" (each query its own window, as upstream's
// encode and decode) or "moshi_streaming" (upstream's frame-by-frame
// streaming: a frame's steps share the window of its last step).
absl::Status ReadAttentionWindow(const io::JsonFields& fields, MimiConfig& c) {
  std::string window = c.transformer.window_steps == 1 ? "offline" : "moshi_streaming";
  RETURN_IF_ERROR(fields.Read("attention_window", window));
  if (window == "offline") {
    c.transformer.window_steps = 1;
  } else if (window == "moshi_streaming") {
    c.transformer.window_steps = 0;  // The frame's steps, known once the config is whole.
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("Mimi config: attention_window is \"", window,
                     "\"; it must be \"offline\" or \"moshi_streaming\""));
  }
  return absl::OkStatus();
}

// transformers' MimiConfig (the hub's kyutai/mimi config.json): its names
// for upstream's fields, and the choices it offers that Mimi makes one way.
absl::Status ReadHuggingFace(const nlohmann::json& json, MimiConfig& c) {
  const io::JsonFields fields(json, "Mimi (Hugging Face)");
  RETURN_IF_ERROR(Require(fields, "model_type", std::string("mimi")));
  RETURN_IF_ERROR(fields.Read("sampling_rate", c.sample_rate));
  RETURN_IF_ERROR(fields.Read("audio_channels", c.channels));
  RETURN_IF_ERROR(fields.Read("frame_rate", c.frame_rate));
  RETURN_IF_ERROR(fields.Read("hidden_size", c.dimension));
  c.transformer.d_model = c.dimension;
  RETURN_IF_ERROR(fields.Read("num_filters", c.n_filters));
  RETURN_IF_ERROR(fields.Read("num_residual_layers", c.n_residual_layers));
  RETURN_IF_ERROR(fields.Read("upsampling_ratios", c.ratios));
  RETURN_IF_ERROR(fields.Read("kernel_size", c.kernel_size));
  RETURN_IF_ERROR(fields.Read("last_kernel_size", c.last_kernel_size));
  RETURN_IF_ERROR(fields.Read("residual_kernel_size", c.residual_kernel_size));
  RETURN_IF_ERROR(fields.Read("dilation_growth_rate", c.dilation_base));
  RETURN_IF_ERROR(fields.Read("compress", c.compress));
  bool conv_shortcut = !c.true_skip;
  RETURN_IF_ERROR(fields.Read("use_conv_shortcut", conv_shortcut));
  c.true_skip = !conv_shortcut;
  RETURN_IF_ERROR(fields.Read("codebook_size", c.bins));
  RETURN_IF_ERROR(fields.Read("vector_quantization_hidden_dimension", c.quantizer_dimension));
  RETURN_IF_ERROR(fields.Read("num_quantizers", c.quantizer_n_q));
  MimiTransformerConfig& t = c.transformer;
  RETURN_IF_ERROR(fields.Read("num_hidden_layers", t.num_layers));
  RETURN_IF_ERROR(fields.Read("intermediate_size", t.dim_feedforward));
  RETURN_IF_ERROR(fields.Read("num_attention_heads", t.num_heads));
  RETURN_IF_ERROR(fields.Read("rope_theta", t.max_period));
  RETURN_IF_ERROR(fields.Read("sliding_window", t.context));
  RETURN_IF_ERROR(fields.Read("layer_scale_initial_scale", t.layer_scale));
  RETURN_IF_ERROR(Require(fields, "codebook_dim", c.quantizer_dimension));
  RETURN_IF_ERROR(Require(fields, "num_semantic_quantizers", 1));
  RETURN_IF_ERROR(Require(fields, "num_key_value_heads", t.num_heads));
  RETURN_IF_ERROR(Require(fields, "head_dim", t.d_model / std::max(t.num_heads, 1)));
  RETURN_IF_ERROR(Require(fields, "upsample_groups", c.dimension));
  RETURN_IF_ERROR(Require(fields, "norm_eps", 1e-5));
  RETURN_IF_ERROR(Require(fields, "hidden_act", std::string("gelu")));
  RETURN_IF_ERROR(Require(fields, "use_causal_conv", true));
  RETURN_IF_ERROR(Require(fields, "pad_mode", std::string("constant")));
  RETURN_IF_ERROR(Require(fields, "trim_right_ratio", 1.0));
  return Require(fields, "attention_bias", false);
}

}  // namespace

int MimiConfig::encoder_hop_length() const {
  return static_cast<int>(config_bounds::SaturatedProduct(ratios));
}

int MimiConfig::downsample_stride() const {
  const double stride = sample_rate / static_cast<double>(encoder_hop_length()) / frame_rate;
  return static_cast<int>(std::lround(stride));
}

double MimiConfig::level_kbps() const { return std::log2(bins) * frame_rate / 1000; }

int MimiConfig::hop_length() const { return encoder_hop_length() * downsample_stride(); }

absl::Status MimiConfig::Validate() const {
  RETURN_IF_ERROR(kBounds.Positive("sample_rate", sample_rate, config_bounds::kMaxSampleRate));
  RETURN_IF_ERROR(kBounds.Positive("channels", channels, 1));
  RETURN_IF_ERROR(kBounds.Positive("seanet.dimension", dimension, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("seanet.n_filters", n_filters, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("seanet.n_residual_layers", n_residual_layers, config_bounds::kMaxLayers));
  RETURN_IF_ERROR(kBounds.PositiveList("seanet.ratios", ratios, config_bounds::kMaxRatios,
                                       config_bounds::kMaxRatio));
  RETURN_IF_ERROR(kBounds.Positive("the SEANet hop (product of seanet.ratios)",
                                   encoder_hop_length(), config_bounds::kMaxHop));
  RETURN_IF_ERROR(kBounds.Positive("the widest SEANet layer, seanet.n_filters << ratios",
                                   config_bounds::SaturatedWidth(n_filters, ratios.size()),
                                   config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("seanet.kernel_size", kernel_size, config_bounds::kMaxKernel));
  RETURN_IF_ERROR(kBounds.Positive("seanet.residual_kernel_size", residual_kernel_size,
                                   config_bounds::kMaxKernel));
  RETURN_IF_ERROR(
      kBounds.Positive("seanet.last_kernel_size", last_kernel_size, config_bounds::kMaxKernel));
  RETURN_IF_ERROR(kBounds.Positive("seanet.dilation_base", dilation_base, 8));
  RETURN_IF_ERROR(kBounds.Positive(
      "the largest dilation, seanet.dilation_base ^ (seanet.n_residual_layers - 1)",
      config_bounds::SaturatedPower(dilation_base, n_residual_layers - 1), config_bounds::kMaxHop));
  RETURN_IF_ERROR(kBounds.Positive("seanet.compress", compress, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("quantizer.dimension", quantizer_dimension, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("quantizer.n_q", quantizer_n_q, kMaxLevels));
  RETURN_IF_ERROR(kBounds.Positive("quantizer.bins", bins, config_bounds::kMaxCodebookSize));
  RETURN_IF_ERROR(kBounds.Positive("default_n_q", default_n_q, quantizer_n_q));
  const MimiTransformerConfig& t = transformer;
  if (t.d_model != dimension) {
    return absl::InvalidArgumentError(absl::StrCat("Mimi config: transformer.d_model is ",
                                                   t.d_model, "; it must equal seanet.dimension ",
                                                   dimension));
  }
  RETURN_IF_ERROR(kBounds.Positive("transformer.num_heads", t.num_heads, t.d_model));
  if (t.d_model % t.num_heads != 0 || (t.d_model / t.num_heads) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Mimi config: transformer.num_heads ", t.num_heads, " must split d_model ",
                     t.d_model, " into heads of an even width (RoPE rotates pairs)"));
  }
  RETURN_IF_ERROR(
      kBounds.Range<int64_t>("transformer.num_layers", t.num_layers, 0, config_bounds::kMaxLayers));
  RETURN_IF_ERROR(kBounds.Positive("transformer.dim_feedforward", t.dim_feedforward,
                                   config_bounds::kMaxChannels * 4));
  RETURN_IF_ERROR(kBounds.Positive("transformer.context", t.context, config_bounds::kMaxContext));
  if (!(t.max_period > 1 && std::isfinite(t.max_period))) {
    return absl::InvalidArgumentError(absl::StrCat("Mimi config: transformer.max_period is ",
                                                   t.max_period, "; it must be above 1"));
  }
  if (!(frame_rate > 0) || !std::isfinite(frame_rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Mimi config: frame_rate is ", frame_rate, "; it must be positive"));
  }
  // The downsample halves (or divides by its stride) whole SEANet frames.
  const double stride = sample_rate / static_cast<double>(encoder_hop_length()) / frame_rate;
  if (std::abs(stride - std::lround(stride)) > 1e-9 || std::lround(stride) < 1 ||
      std::lround(stride) > config_bounds::kMaxRatio) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Mimi config: frame_rate ", frame_rate, " is not the SEANet frame rate ",
        sample_rate / static_cast<double>(encoder_hop_length()), " divided by a whole stride"));
  }
  if (t.window_steps != 1 && t.window_steps != downsample_stride()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Mimi config: the attention window groups ", t.window_steps,
        " steps; it must be 1 (offline) or the steps of a frame, ", downsample_stride()));
  }
  return absl::OkStatus();
}

encodec::EncodecConfig MimiConfig::Seanet() const {
  encodec::EncodecConfig seanet;
  seanet.sampling_rate = sample_rate;
  seanet.audio_channels = channels;
  seanet.hidden_size = dimension;
  seanet.num_filters = n_filters;
  seanet.num_residual_layers = n_residual_layers;
  seanet.upsampling_ratios = ratios;
  seanet.norm_type = "weight_norm";  // Folded, so nothing at run time: Mimi has no norm.
  seanet.kernel_size = kernel_size;
  seanet.last_kernel_size = last_kernel_size;
  seanet.residual_kernel_size = residual_kernel_size;
  seanet.dilation_growth_rate = dilation_base;
  seanet.use_causal_conv = true;
  seanet.pad_mode = "constant";
  seanet.compress = compress;
  seanet.num_lstm_layers = 0;
  seanet.trim_right_ratio = 1.0;
  seanet.use_conv_shortcut = !true_skip;
  return seanet;
}

absl::StatusOr<MimiConfig> MimiPreset(const std::string& name) {
  MimiConfig config;
  if (name == "mimi_24khz" || name.empty()) return config;
  if (name == "mimi_24khz_moshi") {
    config.transformer.window_steps = config.downsample_stride();
    return config;
  }
  return absl::NotFoundError(
      absl::StrCat("no Mimi preset '", name, "'; presets: mimi_24khz, mimi_24khz_moshi"));
}

absl::StatusOr<MimiConfig> MimiConfigFromJson(const nlohmann::json& json, MimiConfig c) {
  if (!json.is_object()) return absl::InvalidArgumentError("Mimi config is not a JSON object");
  const io::JsonFields fields(json, "Mimi");
  if (json.contains("model_type")) RETURN_IF_ERROR(ReadHuggingFace(json, c));
  RETURN_IF_ERROR(fields.Read("sample_rate", c.sample_rate));
  RETURN_IF_ERROR(fields.Read("channels", c.channels));
  RETURN_IF_ERROR(fields.Read("frame_rate", c.frame_rate));
  RETURN_IF_ERROR(fields.Read("default_n_q", c.default_n_q));
  RETURN_IF_ERROR(ReadAttentionWindow(fields, c));
  for (const auto& [section, read] :
       {std::pair<const char*, absl::Status (*)(const nlohmann::json&, MimiConfig&)>{"seanet",
                                                                                     &ReadSeanet},
        {"quantizer", &ReadQuantizer},
        {"transformer", &ReadTransformer}}) {
    auto it = json.find(section);
    if (it == json.end() || it->is_null()) continue;
    if (!it->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Mimi config field '", section, "' is not an object: ", it->dump()));
    }
    RETURN_IF_ERROR(read(*it, c));
  }
  if (c.transformer.window_steps == 0) c.transformer.window_steps = c.downsample_stride();
  RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace codec::mimi
