#ifndef BACKENDS_CORE_CODEC_DESCRIPTION_H_
#define BACKENDS_CORE_CODEC_DESCRIPTION_H_

#include <cstdint>
#include <string>
#include <vector>

namespace codec {

// What a codec is, independent of its weights: known from its configuration
// before it is loaded.
struct CodecDescription {
  std::string family;   // "encodec", "dac", "snac".
  int sample_rate = 0;  // Hz.
  int channels = 0;
  int hop_length = 0;  // Samples per frame of the finest level.
  int64_t codebook_size = 0;
  // One entry per code level, coarsest first: codebooks in that level and its
  // frame rate in Hz. Single-rate codecs have one level.
  std::vector<int> codebooks_per_level;
  std::vector<double> frame_rates;
  // Per level, how many finest-level frames one of its frames spans
  // (SNAC's vq_strides; {1} for single-rate codecs).
  std::vector<int> level_strides;
  // Bandwidths (kbps) a caller may ask for; empty when the codec selects
  // quantisers by count only.
  std::vector<double> bandwidths_kbps;
  // Whether decoding draws random noise (SNAC's noise blocks).
  bool has_noise = false;
  // Segmented models (EnCodec 48 kHz) encode audio in windows of this many
  // samples and carry one scale per window; 0 when unsegmented.
  int64_t segment_length = 0;
  // Whether codes carry one normalisation scale per segment (EnCodec models
  // that normalise; one scale for the whole input when unsegmented).
  bool has_scales = false;
  // Algorithmic latency in steady state, computed from the layer
  // configuration: how many input samples beyond the last sample of a frame
  // the encoder needs before that frame's codes are final, and how many
  // frames beyond a frame the decoder needs before all of its audio is final.
  // (A stream's first frames may wait a little longer: reflect padding at the
  // start reads ahead.)
  int64_t encode_lookahead_samples = 0;
  int64_t decode_lookahead_frames = 0;
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_DESCRIPTION_H_
