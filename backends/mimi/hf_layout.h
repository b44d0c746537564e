#ifndef BACKENDS_MIMI_HF_LAYOUT_H_
#define BACKENDS_MIMI_HF_LAYOUT_H_

#include "absl/status/statusor.h"
#include "backends/io/checkpoint.h"
#include "backends/mimi/mimi_config.h"

namespace codec::mimi {

// transformers' MimiModel (the hub's kyutai/mimi folder) names Mimi's
// tensors by role where the published tokenizer names its wrappers:
//   encoder.model.0.conv.conv.weight      <- encoder.layers.0.conv.weight
//   decoder.model.2.convtr.convtr.weight  <- decoder.layers.2.conv.weight
//   ...transformer.layers.0.linear1       <- ...layers.0.mlp.fc1 (norm1: input_layernorm, ...)
//   ...self_attn.in_proj_weight           <- q_proj, k_proj, v_proj stacked, q and k
//                                            rows back from halves to interleaved pairs
//   quantizer.rvq_first.vq.layers.0._codebook.embedding_sum
//       <- quantizer.semantic_residual_vector_quantizer.layers.0.codebook.embed_sum

// Whether `tensors` are named as transformers' MimiModel names them.
bool IsHuggingFaceLayout(const io::StateDict& tensors);

// The published tokenizer's tensors from transformers' for a model of
// `config`. Names it does not know pass unchanged, for the strict load to
// report; a q, k or v projection without its two siblings, or of the wrong
// shape, is INVALID_ARGUMENT naming it.
absl::StatusOr<io::StateDict> PublishedFromHuggingFace(const io::StateDict& tensors,
                                                       const MimiConfig& config);

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_HF_LAYOUT_H_
