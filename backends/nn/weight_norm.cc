#include "backends/nn/weight_norm.h"

#include <ATen/ATen.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace codec::nn {
namespace {

struct Layout {
  const char* g_suffix;
  const char* v_suffix;
};

constexpr Layout kLayouts[] = {
    {".weight_g", ".weight_v"},
    {".parametrizations.weight.original0", ".parametrizations.weight.original1"},
};

std::string ShapeString(const at::Tensor& t) { return absl::StrJoin(t.sizes(), "x"); }

absl::Status FoldPair(io::StateDict& dict, const std::string& base, const Layout& layout) {
  const std::string g_key = base + layout.g_suffix;
  const std::string v_key = base + layout.v_suffix;
  auto g_it = dict.find(g_key);
  auto v_it = dict.find(v_key);
  if (g_it == dict.end() || v_it == dict.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weight-norm tensor '", g_it == dict.end() ? v_key : g_key,
                     "' has no partner '", g_it == dict.end() ? g_key : v_key, "'"));
  }
  const at::Tensor v = v_it->second.to(at::kFloat);
  const at::Tensor g = g_it->second.to(at::kFloat);
  bool g_shape_ok = g.dim() == v.dim() && v.dim() >= 1 && g.size(0) == v.size(0);
  for (int64_t d = 1; g_shape_ok && d < g.dim(); ++d) g_shape_ok = g.size(d) == 1;
  if (!g_shape_ok) {
    return absl::InvalidArgumentError(absl::StrCat("weight-norm gain '", g_key, "' has shape ",
                                                   ShapeString(g), ", which does not fit '", v_key,
                                                   "' of shape ", ShapeString(v)));
  }
  const std::string weight_key = base + ".weight";
  if (dict.count(weight_key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", weight_key, "' is given both plainly and weight-normalised"));
  }
  // The same kernel PyTorch's weight_norm runs on every forward, so the
  // folded weight is bit-identical to the reference's.
  dict[weight_key] = at::_weight_norm(v, g, /*dim=*/0);
  dict.erase(g_key);
  dict.erase(v_key);
  return absl::OkStatus();
}

}  // namespace

absl::Status FoldWeightNorm(io::StateDict& dict) {
  for (const Layout& layout : kLayouts) {
    std::vector<std::string> bases;
    for (const auto& [key, tensor] : dict) {
      for (const char* suffix : {layout.g_suffix, layout.v_suffix}) {
        if (absl::EndsWith(key, suffix)) {
          std::string base = key.substr(0, key.size() - strlen(suffix));
          if (bases.empty() || bases.back() != base) bases.push_back(std::move(base));
        }
      }
    }
    std::sort(bases.begin(), bases.end());
    bases.erase(std::unique(bases.begin(), bases.end()), bases.end());
    for (const std::string& base : bases) {
      absl::Status status = FoldPair(dict, base, layout);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace codec::nn
