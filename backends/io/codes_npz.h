#ifndef BACKENDS_IO_CODES_NPZ_H_
#define BACKENDS_IO_CODES_NPZ_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"
#include "backends/core/codes.h"
#include "backends/io/npz.h"

namespace codec::io {

// The .npz layout for codes shared by codec_tool and codec_client:
//   codes            int64 [n_q, frames]   single-level codecs, or
//   codes_0..k-1     int64 [frames_i]      multi-level codecs, coarsest first
//   scales           float32 [segments]    segmented models only
//   sample_rate, num_samples, channels     int64 scalars
absl::Status WriteCodesNpz(const std::string& path, const Codes& codes,
                           const CodecDescription& description);

// The codes, scales and (when present) num_samples of arrays in that
// layout, without checking them against a model.
absl::StatusOr<Codes> CodesFromNpz(const NpzFile& npz, const std::string& path);

// Reads codes written in that layout for a model described by
// `description`; a file made for another sample rate or channel count, or
// missing arrays, is INVALID_ARGUMENT naming the file.
absl::StatusOr<Codes> ReadCodesNpz(const std::string& path, const CodecDescription& description);

}  // namespace codec::io

#endif  // BACKENDS_IO_CODES_NPZ_H_
