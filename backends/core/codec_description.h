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
};

}  // namespace codec

#endif  // BACKENDS_CORE_CODEC_DESCRIPTION_H_
