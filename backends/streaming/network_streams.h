#ifndef BACKENDS_STREAMING_NETWORK_STREAMS_H_
#define BACKENDS_STREAMING_NETWORK_STREAMS_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "backends/core/codec_description.h"
#include "backends/core/codec_options.h"
#include "backends/core/codec_stream.h"
#include "backends/streaming/noise_source.h"
#include "backends/streaming/stream_layer.h"
#include "backends/streaming/stream_slots.h"

namespace codec::nn {

// The streams below push as one batch with the other streams of their
// replica's model and direction (PushBatch): chunks of one shape go to the
// device in one copy, are dequantised (decode) in one call, run through the
// layers with their state stacked (StreamSlots), are quantised (encode) in
// one call per quantiser and come back in one copy; a chunk that fails its
// checks is its own stream's error.

// What an encode stream runs for a codec whose encoder is a stream of
// layers followed by a per-frame quantiser (EnCodec 24 kHz, DAC, SNAC).
struct EncodeStreamParts {
  std::shared_ptr<const void> weights;  // Kept alive for the stream's life.
  CodecDescription description;
  at::Device device = at::kCPU;  // Where the encoder's weights are.
  // [1, channels, samples] -> latent [1, D, frames], in whole groups of
  // frames as `quantize` takes them.
  StreamLayerPtr encoder;
  // Latent [B, D, frames] -> per level its codes [B, codebooks, level
  // frames] on the device.
  std::function<std::vector<at::Tensor>(const at::Tensor& latent)> quantize;
  int n_q = 0;  // The quantisers `quantize` uses: streams with others quantise apart.
  // The stream's end is zero-padded to a multiple of this many samples, as
  // the offline encode pads its input.
  int64_t pad_multiple = 1;
  StopCheck stop;
  // The replica's slots for encoder streams; the stream takes one.
  std::shared_ptr<StreamSlots> slots;
};

// RESOURCE_EXHAUSTED when every slot is taken.
absl::StatusOr<std::unique_ptr<EncodeStream>> OpenNetworkEncodeStream(EncodeStreamParts parts);

// What a decode stream runs for a codec whose decoder is a stream of layers
// fed by a per-frame dequantiser.
struct DecodeStreamParts {
  std::shared_ptr<const void> weights;
  CodecDescription description;
  at::Device device = at::kCPU;  // Where the decoder's weights are.
  // Validated codes of B streams, per level [B, codebooks, level frames] on
  // the device -> latent [B, D, finest frames].
  std::function<at::Tensor(const std::vector<at::Tensor>& levels)> dequantize;
  // The decoder's layers, drawing noise from the stream's own source.
  std::function<StreamLayerPtr(NoiseSource* noise)> open_decoder;
  NoiseSource noise;
  // The stream's finest frames must end on a multiple of this (SNAC's
  // attention windows).
  int64_t frame_multiple = 1;
  int64_t num_samples = 0;  // Trim the output to this length; 0: no trim.
  // DecodeOptions::lookahead_frames: unset, the exact stream.
  std::optional<int64_t> lookahead_frames;
  StopCheck stop;
  std::shared_ptr<StreamSlots> slots;  // The replica's, for decoder streams.
};

// INVALID_ARGUMENT for a negative lookahead bound.
absl::StatusOr<std::unique_ptr<DecodeStream>> OpenNetworkDecodeStream(DecodeStreamParts parts);

// Checks one chunk of a decode stream: Codes::Validate against the model,
// and codebook counts that stay what the stream's first chunk set
// (`codebooks`, per level, is filled by the first chunk).
absl::Status ValidateCodesChunk(const Codes& codes, const CodecDescription& description,
                                std::vector<int>& codebooks);

// Checks one chunk of a stream's audio: the model's rate and channels, whole
// frames, finite samples; zero frames are allowed.
absl::Status ValidateAudioChunk(const Audio& audio, const CodecDescription& description);

}  // namespace codec::nn

#endif  // BACKENDS_STREAMING_NETWORK_STREAMS_H_
