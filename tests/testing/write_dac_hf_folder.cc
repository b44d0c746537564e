// Writes the Hugging Face folder (model.safetensors and config.json in
// transformers' DacModel layout) of an upstream DAC checkpoint, for the
// shell tests: write_dac_hf_folder <weights.pth> <folder>.

#include <iostream>

#include "tests/testing/dac_hf_layout.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: write_dac_hf_folder <upstream weights.pth> <folder>\n";
    return 2;
  }
  const absl::Status status = codec::testing::WriteDacHuggingFaceFolder(
      argv[1], codec::testing::WeightNormForm::kPairs, argv[2]);
  if (!status.ok()) {
    std::cerr << status << "\n";
    return 1;
  }
  return 0;
}
