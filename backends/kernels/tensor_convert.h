#ifndef BACKENDS_KERNELS_TENSOR_CONVERT_H_
#define BACKENDS_KERNELS_TENSOR_CONVERT_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "backends/core/audio.h"
#include "backends/core/codes.h"

namespace codec::nn {

// Conversions between the torch-free API types and tensors, and between
// the host and a model's device. Results go back to the host through the
// copies to Audio and CodeLevel, the only points where a step waits for
// its device.

// A float [channels, frames] view of `audio`'s samples (no copy: `audio`
// must outlive it, and it must not be written to).
at::Tensor AudioView(const Audio& audio);
// Copies a float [channels, frames] tensor, on any device, into Audio at
// `sample_rate`.
Audio AudioFromTensor(const at::Tensor& samples, int sample_rate);

// The host tensor `host` on `device`: itself for the CPU (or a tensor
// already there); for a GPU, a copy staged through pinned memory and queued
// on the device's current stream without waiting for it.
at::Tensor ToDevice(const at::Tensor& host, at::Device device);
// `indices` as an int64 [n] tensor on `device` (which rows of a batch),
// copied there as ToDevice copies.
at::Tensor IndexTensor(const std::vector<int64_t>& indices, at::Device device);

// int64 [num_codebooks, frames] <-> CodeLevel (a host tensor; the
// quantisers take codes to their device).
CodeLevel LevelFromTensor(const at::Tensor& codes);
at::Tensor TensorFromLevel(const CodeLevel& level);

// The same for a batch of streams, one copy each way whatever their number
// (a step's one upload and one download).

// Chunks of one length and channel count -> float [B, channels, frames] on
// `device`.
at::Tensor AudioBatchToDevice(const std::vector<const Audio*>& chunks, at::Device device);
// float [B, channels, frames] on any device -> B Audio at `sample_rate`.
std::vector<Audio> AudioBatchFromTensor(const at::Tensor& samples, int sample_rate);
// Codes of one shape (levels, codebooks, frames) -> per level int64
// [B, num_codebooks, frames] on `device`.
std::vector<at::Tensor> LevelBatchToDevice(const std::vector<const Codes*>& chunks,
                                           at::Device device);
// Per level [B, num_codebooks, frames] (integers, on any device) -> B Codes.
std::vector<Codes> CodesBatchFromLevels(const std::vector<at::Tensor>& levels);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_TENSOR_CONVERT_H_
