#include "backends/kernels/onednn_conv.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ops/mkldnn_convolution.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <vector>

#if CODEC_ONEDNN_PLANS
#include <oneapi/dnnl/dnnl.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "backends/kernels/weight_cache.h"
#endif

namespace codec::nn {
namespace {

// The dilated kernel's reach in samples, once the input is checked to fit.
int64_t CheckedReach(const at::Tensor& x, const at::Tensor& weight, int64_t dilation,
                     int64_t groups) {
  TORCH_CHECK(x.scalar_type() == at::kFloat && x.dim() == 3 &&
                  x.size(1) == weight.size(1) * groups,
              "OnednnConv1d: input ", x.sizes(), " does not fit weights ", weight.sizes());
  const int64_t reach = (weight.size(2) - 1) * dilation + 1;
  TORCH_CHECK(x.size(2) >= reach, "OnednnConv1d: input of ", x.size(2),
              " samples is shorter than the ", reach, "-sample kernel");
  return reach;
}

}  // namespace

OnednnConv1d::OnednnConv1d(at::Tensor weight, at::Tensor bias, int64_t stride, int64_t dilation,
                           int64_t groups)
    : weight_(weight.contiguous()),
      bias_(bias.defined() ? bias.contiguous() : bias),
      stride_(stride),
      dilation_(dilation),
      groups_(groups) {
  TORCH_CHECK(weight_.scalar_type() == at::kFloat && weight_.dim() == 3,
              "OnednnConv1d needs float [out, in / groups, kernel] weights");
}

#if !CODEC_ONEDNN_PLANS

struct OnednnConv1d::Plan {};

OnednnConv1d::~OnednnConv1d() = default;

at::Tensor OnednnConv1d::operator()(const at::Tensor& input) {
  const at::Tensor x = input.contiguous();
  CheckedReach(x, weight_, dilation_, groups_);
  return at::mkldnn_convolution(x, weight_, bias_, at::IntArrayRef(int64_t{0}),
                                at::IntArrayRef(stride_), at::IntArrayRef(dilation_), groups_);
}

#else  // CODEC_ONEDNN_PLANS

namespace {

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;

const dnnl::engine& CpuEngine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::memory::desc FloatDesc(const Dims& dims, Tag tag) {
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tag);
}

// A weight tensor in the layouts primitives asked for, each made once.
class WeightLayouts {
 public:
  dnnl::memory Get(const at::Tensor& weight, const dnnl::memory::desc& plain,
                   const dnnl::memory::desc& wanted) const {
    absl::MutexLock lock(&mu_);
    for (const dnnl::memory& layout : layouts_) {
      if (layout.get_desc() == wanted) return layout;
    }
    dnnl::memory source(plain, CpuEngine(), weight.data_ptr());
    dnnl::memory reordered(wanted, CpuEngine());
    dnnl::stream stream(CpuEngine());
    dnnl::reorder(source, reordered).execute(stream, source, reordered);
    stream.wait();
    layouts_.push_back(reordered);
    return reordered;
  }

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<dnnl::memory> layouts_ ABSL_GUARDED_BY(mu_);
};

dnnl::memory WeightLayout(const at::Tensor& weight, const dnnl::memory::desc& plain,
                          const dnnl::memory::desc& wanted) {
  static auto* cache = new WeightCache<WeightLayouts>();
  return cache->Get(weight, [] { return std::make_shared<const WeightLayouts>(); })
      ->Get(weight, plain, wanted);
}

// `memory` in `wanted`'s layout: itself, or a buffer and the reorder into it.
struct Staged {
  dnnl::memory memory;
  std::optional<dnnl::reorder> reorder;
};

Staged StageInto(const dnnl::memory& memory, const dnnl::memory::desc& wanted, bool into_user) {
  if (memory.get_desc() == wanted) return {memory, std::nullopt};
  dnnl::memory buffer(wanted, CpuEngine());
  return {buffer, into_user ? dnnl::reorder(buffer, memory) : dnnl::reorder(memory, buffer)};
}

}  // namespace

struct OnednnConv1d::Plan {
  int64_t batch = 0;
  int64_t width = 0;
  int threads = 0;
  int64_t out_width = 0;
  dnnl::memory user_src;  // Wraps the input tensor.
  dnnl::memory user_dst;  // Wraps the output tensor.
  Staged src;
  Staged dst;
  dnnl::convolution_forward primitive;
  std::unordered_map<int, dnnl::memory> args;
  dnnl::stream stream;
};

OnednnConv1d::~OnednnConv1d() = default;

at::Tensor OnednnConv1d::operator()(const at::Tensor& input) {
  const at::Tensor x = input.contiguous();
  const int64_t reach = CheckedReach(x, weight_, dilation_, groups_);
  const int64_t batch = x.size(0);
  const int64_t width = x.size(2);
  const int64_t out_channels = weight_.size(0);
  const int threads = at::get_num_threads();
  try {
    auto fits = [&](const std::unique_ptr<Plan>& plan) {
      return plan->batch == batch && plan->width == width && plan->threads == threads;
    };
    auto found = std::find_if(plans_.begin(), plans_.end(), fits);
    if (found != plans_.end()) {
      std::rotate(plans_.begin(), found, found + 1);
    } else {
      auto plan = std::make_unique<Plan>();
      plan->batch = batch;
      plan->width = width;
      plan->threads = threads;
      plan->out_width = (width - reach) / stride_ + 1;
      const Dims src_dims{batch, x.size(1), width};
      const Dims dst_dims{batch, out_channels, plan->out_width};
      const Dims weight_dims =
          groups_ == 1 ? Dims{out_channels, weight_.size(1), weight_.size(2)}
                       : Dims{groups_, out_channels / groups_, weight_.size(1), weight_.size(2)};
      const Dims bias_dims{out_channels};
      auto any = [](const Dims& dims) { return FloatDesc(dims, Tag::any); };
      const Dims strides{stride_}, dilates{dilation_ - 1}, no_padding{0};
      const dnnl::convolution_forward::desc desc =
          bias_.defined()
              ? dnnl::convolution_forward::desc(
                    dnnl::prop_kind::forward, dnnl::algorithm::convolution_direct, any(src_dims),
                    any(weight_dims), any(bias_dims), any(dst_dims), strides, dilates,
                    no_padding, no_padding)
              : dnnl::convolution_forward::desc(
                    dnnl::prop_kind::forward, dnnl::algorithm::convolution_direct, any(src_dims),
                    any(weight_dims), any(dst_dims), strides, dilates, no_padding, no_padding);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::convolution_forward::primitive_desc pd(desc, attr, CpuEngine());
      plan->primitive = dnnl::convolution_forward(pd);
      plan->stream = dnnl::stream(CpuEngine());
      plan->user_src = dnnl::memory(FloatDesc(src_dims, Tag::ncw), CpuEngine(), nullptr);
      plan->user_dst = dnnl::memory(FloatDesc(dst_dims, Tag::ncw), CpuEngine(), nullptr);
      plan->src = StageInto(plan->user_src, pd.src_desc(), /*into_user=*/false);
      plan->dst = StageInto(plan->user_dst, pd.dst_desc(), /*into_user=*/true);
      plan->args = {
          {DNNL_ARG_SRC, plan->src.memory},
          {DNNL_ARG_WEIGHTS,
           WeightLayout(weight_, FloatDesc(weight_dims, groups_ == 1 ? Tag::oiw : Tag::goiw),
                        pd.weights_desc())},
          {DNNL_ARG_DST, plan->dst.memory},
          {DNNL_ARG_SCRATCHPAD, dnnl::memory(pd.scratchpad_desc(), CpuEngine())},
      };
      if (bias_.defined()) {
        plan->args[DNNL_ARG_BIAS] =
            WeightLayout(bias_, FloatDesc(bias_dims, Tag::x), pd.bias_desc());
      }
      constexpr size_t kPlansKept = 4;
      if (plans_.size() == kPlansKept) plans_.pop_back();
      plans_.insert(plans_.begin(), std::move(plan));
    }
    Plan& plan = *plans_.front();
    at::Tensor out = at::empty({batch, out_channels, plan.out_width}, x.options());
    plan.user_src.set_data_handle(x.data_ptr());
    plan.user_dst.set_data_handle(out.data_ptr());
    if (plan.src.reorder) plan.src.reorder->execute(plan.stream, plan.user_src, plan.src.memory);
    plan.primitive.execute(plan.stream, plan.args);
    if (plan.dst.reorder) plan.dst.reorder->execute(plan.stream, plan.dst.memory, plan.user_dst);
    plan.stream.wait();
    return out;
  } catch (const dnnl::error& error) {
    plans_.clear();
    TORCH_CHECK(false, "oneDNN convolution failed: ", error.what());
  }
}

#endif  // CODEC_ONEDNN_PLANS

}  // namespace codec::nn
