#include "backends/dac/hf_layout.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace codec::dac {
namespace {

// The layers of a residual unit, in upstream's Sequential order.
constexpr const char* kResidualUnitLayers[] = {"snake1", "conv1", "snake2", "conv2"};

// Where a numbered upstream block sits inside an encoder or decoder block.
struct BlockLayout {
  int first_residual_unit;  // Three residual units from here.
  int snake;
  const char* conv;  // The conv after the snake: the stride's.
};
constexpr BlockLayout kEncoderBlock = {0, 3, "conv1"};    // units, snake, conv
constexpr BlockLayout kDecoderBlock = {2, 0, "conv_t1"};  // snake, conv_t, units

}  // namespace

bool IsHuggingFaceLayout(const io::StateDict& tensors) {
  for (const auto& [key, tensor] : tensors) {
    if (absl::StartsWith(key, "encoder.conv1.") || absl::StartsWith(key, "decoder.conv1.") ||
        absl::StrContains(key, ".res_unit")) {
      return true;
    }
  }
  return false;
}

std::string HuggingFaceName(const std::string& name, const DacConfig& config) {
  const std::vector<std::string> part = absl::StrSplit(name, '.');
  // Upstream: "encoder.block.<i>..." and "decoder.model.<i>...".
  const bool encoder = part.size() >= 4 && part[0] == "encoder" && part[1] == "block";
  const bool decoder = part.size() >= 4 && part[0] == "decoder" && part[1] == "model";
  int top = 0;
  if (!(encoder || decoder) || !absl::SimpleAtoi(part[2], &top)) return name;
  const int blocks =
      static_cast<int>(encoder ? config.encoder_rates.size() : config.decoder_rates.size());
  auto tail = [&](size_t from) { return absl::StrJoin(part.begin() + from, part.end(), "."); };

  if (top == 0) return absl::StrCat(part[0], ".conv1.", tail(3));
  if (top == blocks + 1) return absl::StrCat(part[0], ".snake1.", tail(3));
  if (top == blocks + 2) return absl::StrCat(part[0], ".conv2.", tail(3));
  int inner = 0;
  if (top > blocks || part.size() < 6 || part[3] != "block" || !absl::SimpleAtoi(part[4], &inner)) {
    return name;
  }
  const BlockLayout& layout = encoder ? kEncoderBlock : kDecoderBlock;
  const std::string block = absl::StrCat(part[0], ".block.", top - 1, ".");
  if (inner == layout.snake) return absl::StrCat(block, "snake1.", tail(5));
  if (inner == layout.snake + 1) return absl::StrCat(block, layout.conv, ".", tail(5));
  const int unit = inner - layout.first_residual_unit;
  int layer = 0;
  if (unit < 0 || unit >= 3 || part.size() < 8 || part[5] != "block" ||
      !absl::SimpleAtoi(part[6], &layer) || layer < 0 || layer >= 4) {
    return name;
  }
  return absl::StrCat(block, "res_unit", unit + 1, ".", kResidualUnitLayers[layer], ".", tail(7));
}

}  // namespace codec::dac
