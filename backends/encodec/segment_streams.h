#ifndef BACKENDS_ENCODEC_SEGMENT_STREAMS_H_
#define BACKENDS_ENCODEC_SEGMENT_STREAMS_H_

#include <memory>

#include "backends/core/codec_options.h"
#include "backends/core/codec_stream.h"
#include "backends/encodec/encodec_model.h"

namespace codec::encodec {

// Streams of normalising EnCodec models (48 kHz), segment by segment: a
// segment (1 s, one RMS scale) is encoded once all its samples are there,
// and decoded once all its codes and its scale are; the audio it shares with
// the next segment waits for that one (or the stream's end), then both are
// joined by the same triangular overlap-add as offline. A whole-input
// normaliser (no segments) runs at the stream's end.
std::unique_ptr<EncodeStream> OpenSegmentEncodeStream(std::shared_ptr<const EncodecModel> model,
                                                      CodecDescription description, int n_q,
                                                      StopCheck stop);

// `num_samples`, the encoded length, places the segments; it is required.
absl::StatusOr<std::unique_ptr<DecodeStream>> OpenSegmentDecodeStream(
    std::shared_ptr<const EncodecModel> model, CodecDescription description, int64_t num_samples,
    StopCheck stop);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_SEGMENT_STREAMS_H_
