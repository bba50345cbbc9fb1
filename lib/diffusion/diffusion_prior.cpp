#include "diffevent/diffusion/diffusion_prior.hpp"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#endif

#include <filesystem>
#include <optional>
#include <regex>

#include "core/check.hpp"
#include "diffusion/heap.hpp"

namespace diffevent {
inline namespace v1 {

GaussianPrior::GaussianPrior(at::Tensor mean, at::Tensor stddev, PriorMetadata metadata)
    : mean_(std::move(mean)),
      stddev_(std::move(stddev)),
      meta_(metadata),
      schedule_(NoiseScheduleOptions{metadata.schedule, metadata.num_timesteps, ""}) {
  DIFFEVENT_CHECK(mean_.defined() && stddev_.defined() && (stddev_ > 0).all().item<bool>(),
                  ErrorCode::kInvalidArgument,
                  "GaussianPrior: mean and stddev must be defined and stddev > 0");
  DIFFEVENT_CHECK(!meta_.learned_sigma, ErrorCode::kInvalidArgument,
                  "GaussianPrior: has no learned variance");
}

PriorOutput GaussianPrior::predict(const at::Tensor& x_t, const at::Tensor& t) {
  ++calls_;
  DIFFEVENT_CHECK(x_t.dim() == 4 && t.dim() == 1 && t.size(0) == x_t.size(0),
                  ErrorCode::kInvalidArgument, "GaussianPrior: expected x_t [N,C,H,W] and t [N]");
  std::vector<double> ab(static_cast<size_t>(t.size(0)));
  const at::Tensor tc = t.to(at::kCPU, at::kLong).contiguous();
  for (int64_t i = 0; i < t.size(0); ++i) {
    const int64_t k = tc.data_ptr<int64_t>()[i];
    DIFFEVENT_CHECK(k >= 0 && k < schedule_.num_steps(), ErrorCode::kOutOfRange,
                    "GaussianPrior: timestep {} outside [0, {})", k, schedule_.num_steps());
    ab[static_cast<size_t>(i)] = schedule_.alpha_bar(static_cast<int>(k));
  }
  const at::Tensor abt =
      at::tensor(ab, x_t.options().dtype(at::kDouble)).to(x_t.scalar_type()).view({-1, 1, 1, 1});
  const at::Tensor m = mean_.to(x_t.options()), sd = stddev_.to(x_t.options());
  const at::Tensor eps = at::sqrt(1 - abt) * (x_t - at::sqrt(abt) * m) / (abt * sd * sd + 1 - abt);
  return {eps, at::Tensor()};
}

at::Tensor GaussianPrior::x0_variance(int64_t t) const {
  DIFFEVENT_CHECK(t >= 0 && t < schedule_.num_steps(), ErrorCode::kOutOfRange,
                  "GaussianPrior: timestep {} out of range", t);
  const double ab = schedule_.alpha_bar(static_cast<int>(t));
  return 1.0 / (1.0 / (stddev_ * stddev_) + ab / (1.0 - ab));
}

PriorMetadata parse_prior_metadata(const std::string& json) {
  PriorMetadata m;
  auto value = [&](const char* key) -> std::string {
    const std::regex re(std::string("\"") + key + "\"\\s*:\\s*(\"[^\"]*\"|[-+0-9.eE]+|true|false)");
    std::smatch sm;
    if (!std::regex_search(json, sm, re)) return "";
    std::string v = sm[1].str();
    if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
    return v;
  };
  DIFFEVENT_CHECK(json.find('{') != std::string::npos, ErrorCode::kFormatError,
                  "prior metadata: not a JSON object");
  try {
    if (auto v = value("channels"); !v.empty()) m.channels = std::stoi(v);
    if (auto v = value("num_timesteps"); !v.empty()) m.num_timesteps = std::stoi(v);
    if (auto v = value("size_multiple"); !v.empty()) m.size_multiple = std::stoi(v);
    if (auto v = value("image_size"); !v.empty()) m.native_size = std::stoi(v);
  } catch (const std::exception&) {
    throw Error(ErrorCode::kFormatError, "prior metadata: a numeric field is malformed");
  }
  if (auto v = value("learned_sigma"); !v.empty()) m.learned_sigma = v == "true" || v == "1";
  {
    const std::regex re("\"data_range\"\\s*:\\s*\\[\\s*([-+0-9.eE]+)\\s*,\\s*([-+0-9.eE]+)\\s*\\]");
    std::smatch sm;
    if (std::regex_search(json, sm, re)) {
      try {
        m.data_min = std::stod(sm[1].str());
        m.data_max = std::stod(sm[2].str());
      } catch (const std::exception&) {
        throw Error(ErrorCode::kFormatError, "prior metadata: data_range is malformed");
      }
      DIFFEVENT_CHECK(m.data_min < m.data_max, ErrorCode::kFormatError,
                      "prior metadata: data_range [{}, {}] is empty", m.data_min, m.data_max);
    }
  }
  if (auto v = value("attention"); !v.empty()) {
    DIFFEVENT_CHECK(v == "global" || v == "window" || v == "none", ErrorCode::kFormatError,
                    "prior metadata: attention '{}' (expected global, window or none)", v);
    m.global_attention = v == "global";
  }
  if (auto v = value("schedule"); !v.empty()) {
    DIFFEVENT_CHECK(v == "linear" || v == "cosine", ErrorCode::kFormatError,
                    "prior metadata: schedule '{}' (expected linear or cosine)", v);
    m.schedule = v == "cosine" ? BetaSchedule::kCosine : BetaSchedule::kLinear;
  }
  DIFFEVENT_CHECK(
      (m.channels == 1 || m.channels == 3) && m.num_timesteps >= 1 && m.size_multiple >= 1,
      ErrorCode::kFormatError,
      "prior metadata: channels {} / num_timesteps {} / size_multiple {} invalid", m.channels,
      m.num_timesteps, m.size_multiple);
  DIFFEVENT_CHECK(m.native_size >= 0, ErrorCode::kFormatError,
                  "prior metadata: image_size {} is negative", m.native_size);
  return m;
}

namespace {

// at::Device's own parser throws c10::Error with a backtrace; ours names the option.
at::Device parse_device(const std::string& name) {
  try {
    return at::Device(name);
  } catch (const c10::Error&) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("prior: device '{}' is not a device (expected cpu or cuda:N)", name));
  }
}

// LibTorch's thread count does not reach OpenBLAS's own pool (Debian's LibTorch multiplies
// matrices with OpenBLAS, whose pthreads build sizes its pool from OPENBLAS_NUM_THREADS or the
// cores). A product split over another number of threads rounds differently, so the same frame
// gave other bytes in a process whose environment differed (a Dask worker, which sets
// OPENBLAS_NUM_THREADS=1). The thread count a caller asks for is the BLAS library's too.
void set_blas_threads(int n) {
#if defined(__unix__) || defined(__APPLE__)
  using SetThreads = void (*)(int);
  if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) reinterpret_cast<SetThreads>(f)(n);
#else
  (void)n;
#endif
}

class TorchScriptPrior : public DiffusionPrior {
 public:
  TorchScriptPrior(const std::string& path, const TorchScriptPriorOptions& o)
      : device_(parse_device(o.device)), half_(o.half_precision) {
    DIFFEVENT_CHECK(std::filesystem::exists(path), ErrorCode::kIoError, "prior '{}': no such file",
                    path);
    DIFFEVENT_CHECK(device_.is_cpu() || device_.is_cuda(), ErrorCode::kInvalidArgument,
                    "prior: device '{}' (expected cpu or cuda:N)", o.device);
    DIFFEVENT_CHECK(!device_.is_cuda() || at::globalContext().hasCUDA(), ErrorCode::kUnsupported,
                    "prior: device '{}' requested but this LibTorch build or machine has no CUDA",
                    o.device);
    if (o.intra_op_threads > 0) {
      at::set_num_threads(o.intra_op_threads);
      set_blas_threads(o.intra_op_threads);
    }
    if (device_.is_cpu() && o.retain_heap)
      detail::retain_freed_memory();  // See Note [Heap and activations]
    torch::jit::ExtraFilesMap extra{{"metadata.json", ""}};
    try {
      module_ = torch::jit::load(path, device_, extra);
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::kFormatError,
                  fmt::format("prior '{}': not a loadable TorchScript archive ({})", path,
                              e.what_without_backtrace()));
    }
    module_.eval();
    meta_ = extra["metadata.json"].empty() ? PriorMetadata{}
                                           : parse_prior_metadata(extra["metadata.json"]);
    if (o.metadata_override) meta_ = *o.metadata_override;
    if (half_) module_.to(at::kHalf);
    if (o.optimize) {
      // Frozen and optimised for inference: parameters become constants, convolutions are
      // fused with what follows and their weights pre-packed, once, here (not per call).
      try {
        torch::jit::Module frozen = torch::jit::freeze(module_);
        module_ = torch::jit::optimize_for_inference(frozen);
        optimized_ = true;
      } catch (const c10::Error&) {
        // Modules that mutate attributes in forward cannot be frozen: they run as loaded.
      }
    }
    path_ = path;
  }
  const PriorMetadata& metadata() const override { return meta_; }
  at::Device device() const override { return device_; }
  PriorOutput predict(const at::Tensor& x_t, const at::Tensor& t) override {
    c10::InferenceMode guard;
    // An optimised module needs no profiling runs: without the executor's optimisation (a
    // thread-local switch) the first calls cost what the others do.
    // A module that is not optimised runs under the caller's own setting.
    std::optional<torch::jit::GraphOptimizerEnabledGuard> executor_opt;
    if (optimized_) executor_opt.emplace(false);
    at::Tensor x = x_t.to(device_, half_ ? at::kHalf : at::kFloat);
    at::Tensor out;
    try {
      out = module_.forward({x, t.to(device_, at::kLong)})
                .toTensor()
                .to(x_t.device(), x_t.scalar_type());
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("prior forward failed: {}", e.what_without_backtrace()));
    }
    const int64_t C = x_t.size(1);
    const int64_t want = meta_.learned_sigma ? 2 * C : C;
    DIFFEVENT_CHECK(out.dim() == 4 && out.size(1) == want && out.size(2) == x_t.size(2) &&
                        out.size(3) == x_t.size(3),
                    ErrorCode::kFormatError, "prior: network returned [{}], expected [N,{},H,W]",
                    fmt::join(out.sizes(), ", "), want);
    DIFFEVENT_CHECK(at::isfinite(out).all().item<bool>(), ErrorCode::kFormatError,
                    "prior '{}' returned NaN or infinite values (at timestep {})", path_,
                    t.min().item<int64_t>());
    if (meta_.learned_sigma) return {out.narrow(1, 0, C), out.narrow(1, C, C)};
    return {out, at::Tensor()};
  }

 private:
  torch::jit::script::Module module_;
  std::string path_;
  bool optimized_ = false;
  at::Device device_;
  bool half_;
  PriorMetadata meta_;
};

}  // namespace

std::unique_ptr<DiffusionPrior> load_prior(const std::string& path,
                                           const TorchScriptPriorOptions& options) {
  // Backend by extension: .pt / .ts / .zip TorchScript today; .pt2 (AOTInductor) is the slot for
  // LibTorch >= 2.6.
  const std::string ext = std::filesystem::path(path).extension().string();
  DIFFEVENT_CHECK(
      ext != ".pt2", ErrorCode::kUnsupported,
      "prior '{}': AOTInductor packages need LibTorch >= 2.6 and are not supported in this build",
      path);
  return std::make_unique<TorchScriptPrior>(path, options);
}

}  // namespace v1
}  // namespace diffevent
