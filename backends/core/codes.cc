#include "backends/core/codes.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace codec {

int Codes::total_codebooks() const {
  int total = 0;
  for (const CodeLevel& level : levels) total += level.num_codebooks;
  return total;
}

std::vector<uint32_t> Codes::Flatten() const {
  std::vector<uint32_t> flat;
  for (const CodeLevel& level : levels) {
    flat.insert(flat.end(), level.values.begin(), level.values.end());
  }
  return flat;
}

absl::Status Codes::Validate(const CodecDescription& model) const {
  const size_t model_levels = model.codebooks_per_level.size();
  if (levels.size() != model_levels) {
    return absl::InvalidArgumentError(absl::StrCat("codes have ", levels.size(),
                                                   " level(s); the model takes ", model_levels));
  }
  int64_t finest_frames = 0;
  for (size_t l = 0; l < levels.size(); ++l) {
    const CodeLevel& level = levels[l];
    const int max_codebooks = model.codebooks_per_level[l];
    if (level.num_codebooks <= 0 || level.num_codebooks > max_codebooks || level.frames <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "codes level ", l, " has ", level.num_codebooks, " codebook(s) x ", level.frames,
          " frame(s); the model takes 1 to ", max_codebooks, " codebook(s) and at least 1 frame"));
    }
    // frames <= values.size() / codebooks keeps every product below in range.
    if (level.frames > static_cast<int64_t>(level.values.size()) / level.num_codebooks ||
        static_cast<int64_t>(level.values.size()) != level.num_codebooks * level.frames) {
      return absl::InvalidArgumentError(absl::StrCat("codes level ", l, " holds ",
                                                     level.values.size(), " values for ",
                                                     level.num_codebooks, " codebook(s) x ",
                                                     level.frames, " frame(s)"));
    }
    const int64_t span = level.frames * model.level_strides[l];
    if (l > 0 && span != finest_frames) {
      return absl::InvalidArgumentError(absl::StrCat(
          "codes level ", l, " has ", level.frames, " frame(s) of stride ",
          model.level_strides[l], " (", span, " finest frames) but level 0 spans ", finest_frames,
          "; levels must cover the same frames (strides [", absl::StrJoin(model.level_strides, ", "),
          "])"));
    }
    finest_frames = span;
    for (size_t i = 0; i < level.values.size(); ++i) {
      if (level.values[i] >= model.codebook_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "code ", level.values[i], " at level ", l, ", codebook ", i / level.frames, ", frame ",
            i % level.frames, " is out of range: the codebook size is ", model.codebook_size));
      }
    }
  }
  if (!model.has_scales && !scales.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the codes carry ", scales.size(), " segment scale(s), but this model takes none"));
  }
  for (float scale : scales) {
    if (!std::isfinite(scale) || scale <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment scale ", scale, " is not a positive finite number"));
    }
  }
  return absl::OkStatus();
}

Codes SliceCodes(const Codes& codes, int64_t first, int64_t last) {
  Codes out;
  const int64_t finest = codes.levels.empty() ? 0 : codes.levels.back().frames;
  for (const CodeLevel& level : codes.levels) {
    const int64_t stride = level.frames > 0 ? finest / level.frames : 1;
    const int64_t begin = first / stride, end = std::min(level.frames, last / stride);
    CodeLevel part{level.num_codebooks, end - begin, {}};
    part.values.reserve(static_cast<size_t>(part.num_codebooks * part.frames));
    for (int k = 0; k < level.num_codebooks; ++k) {
      part.values.insert(part.values.end(), level.values.begin() + k * level.frames + begin,
                         level.values.begin() + k * level.frames + end);
    }
    out.levels.push_back(std::move(part));
  }
  if (first == 0) out.scales = codes.scales;
  return out;
}

Codes ConcatCodes(const std::vector<Codes>& parts) {
  Codes out;
  for (const Codes& part : parts) {
    if (out.levels.size() < part.levels.size()) out.levels.resize(part.levels.size());
    for (size_t l = 0; l < part.levels.size(); ++l) {
      if (part.levels[l].frames == 0) continue;  // An empty part says nothing of its shape.
      out.levels[l].num_codebooks = part.levels[l].num_codebooks;
      out.levels[l].frames += part.levels[l].frames;
    }
    out.scales.insert(out.scales.end(), part.scales.begin(), part.scales.end());
    if (part.num_samples > 0) out.num_samples = part.num_samples;
  }
  for (size_t l = 0; l < out.levels.size(); ++l) {
    CodeLevel& level = out.levels[l];
    level.values.reserve(static_cast<size_t>(level.num_codebooks * level.frames));
    for (int k = 0; k < level.num_codebooks; ++k) {
      for (const Codes& part : parts) {
        if (l >= part.levels.size() || part.levels[l].frames == 0) continue;
        const CodeLevel& in = part.levels[l];
        level.values.insert(level.values.end(), in.values.begin() + k * in.frames,
                            in.values.begin() + (k + 1) * in.frames);
      }
    }
  }
  return out;
}

absl::StatusOr<Codes> CodesFromFlat(absl::Span<const uint32_t> tokens, int num_codebooks) {
  if (num_codebooks <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_codebooks must be positive, got ", num_codebooks));
  }
  if (tokens.empty() || tokens.size() % num_codebooks != 0) {
    return absl::InvalidArgumentError(absl::StrCat(tokens.size(), " tokens cannot be split into ",
                                                   num_codebooks,
                                                   " codebooks of equal non-zero length"));
  }
  Codes codes;
  CodeLevel level;
  level.num_codebooks = num_codebooks;
  level.frames = static_cast<int64_t>(tokens.size()) / num_codebooks;
  level.values.assign(tokens.begin(), tokens.end());
  codes.levels.push_back(std::move(level));
  return codes;
}

absl::StatusOr<Codes> CodesFromFlatLevels(absl::Span<const uint32_t> tokens,
                                          const std::vector<int>& codebooks_per_level,
                                          const std::vector<int>& level_strides) {
  // T = k * lcm(strides): each k adds sum_i(codebooks_i * lcm / stride_i) tokens.
  int64_t lcm = 1;
  for (int stride : level_strides) lcm = std::lcm(lcm, static_cast<int64_t>(stride));
  int64_t tokens_per_unit = 0;
  for (size_t i = 0; i < level_strides.size(); ++i) {
    tokens_per_unit += codebooks_per_level[i] * (lcm / level_strides[i]);
  }
  if (tokens.empty() || tokens.size() % tokens_per_unit != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(tokens.size(), " tokens do not split into levels with strides [",
                     absl::StrJoin(level_strides, ", "),
                     "]: the count must be a positive multiple of ", tokens_per_unit));
  }
  const int64_t finest_frames = static_cast<int64_t>(tokens.size()) / tokens_per_unit * lcm;
  Codes codes;
  size_t offset = 0;
  for (size_t i = 0; i < level_strides.size(); ++i) {
    CodeLevel level;
    level.num_codebooks = codebooks_per_level[i];
    level.frames = finest_frames / level_strides[i];
    const size_t count = static_cast<size_t>(level.num_codebooks * level.frames);
    level.values.assign(tokens.begin() + offset, tokens.begin() + offset + count);
    offset += count;
    codes.levels.push_back(std::move(level));
  }
  return codes;
}

}  // namespace codec
