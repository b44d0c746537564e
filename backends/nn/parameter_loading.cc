#include "backends/nn/parameter_loading.h"

#include <torch/torch.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace codec::nn {
namespace {

constexpr size_t kMaxNamesListed = 8;

std::string ListNames(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + std::min(names.size(), kMaxNamesListed));
  std::string listed = absl::StrJoin(shown, ", ");
  if (names.size() > kMaxNamesListed) {
    absl::StrAppend(&listed, " and ", names.size() - kMaxNamesListed, " more");
  }
  return listed;
}

}  // namespace

absl::Status LoadParameters(torch::nn::Module& module, const io::StateDict& dict,
                            const CheckpointNaming& naming) {
  // Each parameter and buffer under its name in the checkpoint.
  std::vector<std::pair<std::string, torch::Tensor>> targets;
  auto add = [&](const std::string& name, const torch::Tensor& tensor) {
    targets.emplace_back(naming ? naming(name) : name, tensor);
  };
  for (const auto& item : module.named_parameters(/*recurse=*/true)) add(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) add(item.key(), item.value());

  std::vector<std::string> missing, misshaped, unexpected;
  std::set<std::string> used;
  for (const auto& [name, target] : targets) {
    auto it = dict.find(name);
    if (it == dict.end()) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    if (it->second.sizes() != target.sizes()) {
      misshaped.push_back(absl::StrCat(name, " (model ", absl::StrJoin(target.sizes(), "x"),
                                       ", checkpoint ", absl::StrJoin(it->second.sizes(), "x"),
                                       ")"));
    }
  }
  for (const auto& [name, tensor] : dict) {
    if (!used.count(name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !misshaped.empty() || !unexpected.empty()) {
    std::vector<std::string> problems;
    if (!missing.empty()) problems.push_back(absl::StrCat("missing: ", ListNames(missing)));
    if (!unexpected.empty()) {
      problems.push_back(absl::StrCat("unexpected: ", ListNames(unexpected)));
    }
    if (!misshaped.empty()) problems.push_back(absl::StrCat("mis-shaped: ", ListNames(misshaped)));
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint does not match the model; ", absl::StrJoin(problems, "; ")));
  }

  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) target.copy_(dict.at(name));
  return absl::OkStatus();
}

int64_t ParameterBytes(const torch::nn::Module& module) {
  int64_t bytes = 0;
  for (const at::Tensor& t : module.parameters()) bytes += t.nbytes();
  for (const at::Tensor& t : module.buffers()) bytes += t.nbytes();
  return bytes;
}

at::Device DeviceOf(const torch::nn::Module& module) {
  const std::vector<at::Tensor> parameters = module.parameters();
  return parameters.empty() ? at::Device(at::kCPU) : parameters.front().device();
}

}  // namespace codec::nn
