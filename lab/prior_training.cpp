#include "lab/prior_training.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/optim/adam.h>
#include <torch/script.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

#include "core/check.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffevent/diffusion/noise_schedule.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "diffevent/events/event_integrator.hpp"
#include "diffevent/events/event_simulator.hpp"
#include "diffusion/vlb.hpp"
#include "io/atomic_file.hpp"

namespace diffevent {
inline namespace v1 {

namespace {

namespace fs = std::filesystem;

bool has_image_extension(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e == ".png" || e == ".pfm";
}

// A seed for step k that does not depend on how the run got there (resumption is exact).
uint64_t step_seed(uint64_t seed, int64_t step) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(step + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One batch of random patches with random horizontal and vertical flips, [B, C, P, P] in the
// network's units.
at::Tensor make_batch(const TrainingData& data, int batch, int patch, std::mt19937_64& rng) {
  const int c = data.images.front().channels();
  at::Tensor out = at::empty({batch, c, patch, patch}, at::kFloat);
  float* dst = out.data_ptr<float>();
  std::uniform_int_distribution<size_t> pick(0, data.images.size() - 1);
  for (int b = 0; b < batch; ++b) {
    const Image& im = data.images[pick(rng)];
    std::uniform_int_distribution<int> py(0, im.height() - patch), px(0, im.width() - patch);
    const int y0 = py(rng), x0 = px(rng);
    const bool flip_x = rng() & 1, flip_y = rng() & 1;
    for (int ch = 0; ch < c; ++ch) {
      for (int y = 0; y < patch; ++y) {
        const int sy = y0 + (flip_y ? patch - 1 - y : y);
        for (int x = 0; x < patch; ++x) {
          const int sx = x0 + (flip_x ? patch - 1 - x : x);
          *dst++ = static_cast<float>(data.scale * im.at(ch, sy, sx) + data.offset);
        }
      }
    }
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> named_parameters(const torch::jit::Module& m) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value);
  return out;
}

}  // namespace

TrainingData load_training_images(const std::string& folder, int channels, bool linearize_srgb) {
  DIFFEVENT_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArgument,
                  "training images: channels = {} (expected 1 or 3)", channels);
  std::error_code ec;
  DIFFEVENT_CHECK(fs::is_directory(folder, ec), ErrorCode::kIoError,
                  "training images: '{}' is not a folder", folder);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(folder)) {
    if (e.is_regular_file() && has_image_extension(e.path())) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  TrainingData data;
  for (const auto& f : files) {
    Image im = read_image(f.string());
    DIFFEVENT_CHECK(im.all_finite(), ErrorCode::kInvalidArgument,
                    "training images: '{}' holds NaN or infinite values", f.string());
    if (linearize_srgb && f.extension() != ".pfm") srgb_to_linear(im);
    if (channels == 1 && im.channels() == 3) im = im.to_grey();
    DIFFEVENT_CHECK(im.channels() == channels, ErrorCode::kInvalidArgument,
                    "training images: '{}' is grey but the prior models RGB images", f.string());
    data.images.push_back(std::move(im));
  }
  DIFFEVENT_CHECK(!data.images.empty(), ErrorCode::kInvalidArgument,
                  "training images: no PNG or PFM file in '{}'", folder);
  return data;
}

int add_downscaled_copies(TrainingData& data, const std::vector<int>& factors, int min_side) {
  DIFFEVENT_CHECK(min_side >= 1, ErrorCode::kInvalidArgument,
                  "training images: min_side = {} must be >= 1", min_side);
  for (int f : factors)
    DIFFEVENT_CHECK(f >= 1, ErrorCode::kInvalidArgument,
                    "training images: scale factor {} must be >= 1", f);
  std::vector<Image> copies;
  for (int f : factors) {
    if (f == 1) continue;
    for (const Image& im : data.images) {
      const int h = im.height() / f, w = im.width() / f;
      if (std::min(h, w) < min_side) continue;
      copies.push_back(resize(im, h, w));
    }
  }
  const int added = static_cast<int>(copies.size());
  for (Image& c : copies) data.images.push_back(std::move(c));
  return added;
}

TrainingData make_residual_training_data(const TrainingData& photos, const ResidualDataOptions& o) {
  DIFFEVENT_CHECK(!photos.images.empty(), ErrorCode::kInvalidArgument, "residual data: no photos");
  DIFFEVENT_CHECK(o.threshold_error >= 0 && o.threshold_error < 1, ErrorCode::kInvalidArgument,
                  "residual data: threshold_error ({}) must be in [0, 1)", o.threshold_error);
  DIFFEVENT_CHECK((o.threshold_sigma_max == 0 || o.threshold_sigma_max >= o.threshold_sigma) &&
                      (o.noise_hz_max == 0 || o.noise_hz_max >= o.noise_hz),
                  ErrorCode::kInvalidArgument,
                  "residual data: a range's upper end must be 0 (no range) or at least its lower "
                  "end: threshold_sigma {} to {}, noise_hz {} to {}",
                  o.threshold_sigma, o.threshold_sigma_max, o.noise_hz, o.noise_hz_max);
  DIFFEVENT_CHECK(o.samples >= 1 && o.crop >= 8 && o.c > 0 && o.exposure_us > 0,
                  ErrorCode::kInvalidArgument,
                  "residual data: samples ({}) >= 1, crop ({}) >= 8, c ({}) > 0 and exposure ({} "
                  "us) > 0 required",
                  o.samples, o.crop, o.c, o.exposure_us);
  for (size_t i = 0; i < photos.images.size(); ++i) {
    const Image& p = photos.images[i];
    DIFFEVENT_CHECK(p.width() >= o.crop && p.height() >= o.crop, ErrorCode::kInvalidArgument,
                    "residual data: photo {} ({}x{}) is smaller than the {}-pixel crop", i,
                    p.width(), p.height(), o.crop);
  }
  TrainingData out;
  out.scale = 2.0;
  out.offset = 0.0;
  for (int i = 0; i < o.samples; ++i) {
    std::mt19937_64 rng(step_seed(o.seed, i));
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const Image& photo = photos.images[static_cast<size_t>(i) % photos.images.size()];
    std::uniform_int_distribution<int> py(0, photo.height() - o.crop),
        px(0, photo.width() - o.crop);
    const int y0 = py(rng), x0 = px(rng);
    Image crop(photo.channels(), o.crop, o.crop);
    for (int c = 0; c < photo.channels(); ++c)
      for (int y = 0; y < o.crop; ++y)
        for (int x = 0; x < o.crop; ++x) crop.at(c, y, x) = photo.at(c, y0 + y, x0 + x);
    SimulatorOptions so;
    so.exposure_us = o.exposure_us;
    so.c_pos = so.c_neg = o.c;
    // u(rng) is in [-1, 1]: (u + 1) / 2 in [0, 1].
    const auto between = [&](double lo, double hi) {
      return hi > lo ? lo + (hi - lo) * 0.5 * (u(rng) + 1.0) : lo;
    };
    so.threshold_sigma = between(o.threshold_sigma, o.threshold_sigma_max);
    so.shot_noise_hz = between(o.noise_hz, o.noise_hz_max);
    const double assumed_c = o.threshold_error > 0 ? o.c * (1.0 + o.threshold_error * u(rng)) : o.c;
    so.seed = step_seed(o.seed ^ 0x5EEDull, i);
    CameraMotion m;
    m.dx_px = o.max_shift_px * u(rng);
    m.dy_px = o.max_shift_px * u(rng);
    m.rotation_rad = o.max_rotation_rad * u(rng);
    m.zoom = 1.0 + o.max_zoom * u(rng);
    const SimulationResult sim = EventSimulator(so).simulate_motion(crop, m);
    // The same f(E) as deblur() computes (make_ebrd_model): the prior learns what the sampler sees.
    const DeblurOptions deblur_defaults;
    const EbrdModel model = make_ebrd_model(
        sim.blurry, sim.events, sim.exposure, Thresholds::symmetric(assumed_c),
        deblur_defaults.min_integral, o.enhancer, std::nullopt, deblur_defaults.interpolation);
    const at::Tensor x = image_to_tensor(sim.sharp);
    // Pixels whose threshold is far from the nominal one (mismatch) get an E off by orders of
    // magnitude, and r with it; the prior's domain is r in [-1/2, 1/2] (network units [-1, 1]).
    const at::Tensor r =
        at::nan_to_num(model.residual(x, at::zeros_like(x)), 0.0, 0.5, -0.5).clamp(-0.5, 0.5);
    out.images.push_back(tensor_to_image(r));
  }
  return out;
}

namespace detail {
at::Tensor draw_timesteps(int64_t batch, int64_t num_timesteps, double low_fraction,
                          int64_t low_max_t, at::Generator& gen) {
  at::Tensor t = at::randint(0, num_timesteps, {batch}, gen, at::TensorOptions().dtype(at::kLong));
  const int64_t n_low =
      std::min<int64_t>(batch, std::llround(low_fraction * static_cast<double>(batch)));
  if (n_low > 0) {
    const at::Tensor t_low = at::randint(0, std::min(low_max_t, num_timesteps), {n_low}, gen,
                                         at::TensorOptions().dtype(at::kLong));
    t = at::cat({t_low, t.narrow(0, n_low, batch - n_low)});
  }
  return t;
}
}  // namespace detail

PriorTrainingResult train_prior(const std::string& init_path, const TrainingData& data,
                                const std::string& out_path, const PriorTrainingOptions& o,
                                const std::string& resume) {
  DIFFEVENT_CHECK(o.steps >= 1 && o.batch >= 1 && o.patch >= 1, ErrorCode::kInvalidArgument,
                  "train-prior: steps ({}), batch ({}) and patch ({}) must be >= 1", o.steps,
                  o.batch, o.patch);
  DIFFEVENT_CHECK(o.lr > 0 && std::isfinite(o.lr), ErrorCode::kInvalidArgument,
                  "train-prior: lr = {} must be > 0", o.lr);
  DIFFEVENT_CHECK(o.ema >= 0 && o.ema < 1, ErrorCode::kInvalidArgument,
                  "train-prior: ema = {} must be in [0, 1)", o.ema);
  DIFFEVENT_CHECK(
      o.low_noise_fraction >= 0 && o.low_noise_fraction <= 1 && o.low_noise_max_t >= 1,
      ErrorCode::kInvalidArgument,
      "train-prior: low_noise_fraction = {} must be in [0, 1] and low_noise_max_t = {} >= 1",
      o.low_noise_fraction, o.low_noise_max_t);
  DIFFEVENT_CHECK(o.log_every >= 1 && o.checkpoint_every >= 0, ErrorCode::kInvalidArgument,
                  "train-prior: log_every must be >= 1 and checkpoint_every >= 0");
  DIFFEVENT_CHECK(!data.images.empty(), ErrorCode::kInvalidArgument,
                  "train-prior: no training images");
  for (const std::string* p : {&out_path, &o.checkpoint}) {
    const fs::path parent = fs::path(*p).parent_path();
    std::error_code ec;
    DIFFEVENT_CHECK(
        p->empty() || parent.empty() || fs::is_directory(parent, ec), ErrorCode::kIoError,
        "train-prior: cannot write '{}': the folder '{}' does not exist", *p, parent.string());
  }

  // The network and its metadata (load_prior validates both and gives the usual errors).
  const PriorMetadata meta = load_prior(init_path)->metadata();
  DIFFEVENT_CHECK(o.patch % meta.size_multiple == 0, ErrorCode::kInvalidArgument,
                  "train-prior: patch {} is not a multiple of the prior's size_multiple {}",
                  o.patch, meta.size_multiple);
  for (size_t i = 0; i < data.images.size(); ++i) {
    const Image& im = data.images[i];
    DIFFEVENT_CHECK(im.channels() == meta.channels, ErrorCode::kInvalidArgument,
                    "train-prior: image {} has {} channel(s), the prior models {}", i,
                    im.channels(), meta.channels);
    DIFFEVENT_CHECK(im.all_finite(), ErrorCode::kInvalidArgument,
                    "train-prior: image {} holds NaN or infinite values", i);
    DIFFEVENT_CHECK(im.height() >= o.patch && im.width() >= o.patch, ErrorCode::kInvalidArgument,
                    "train-prior: image {} ({}x{}) is smaller than the {}-pixel patch", i,
                    im.width(), im.height(), o.patch);
  }
  at::Device device(at::kCPU);
  try {
    device = at::Device(o.device);
  } catch (const c10::Error&) {
    throw Error(
        ErrorCode::kInvalidArgument,
        fmt::format("train-prior: device '{}' is not a device (expected cpu or cuda:N)", o.device));
  }
  DIFFEVENT_CHECK(
      !device.is_cuda() || at::hasCUDA(), ErrorCode::kUnsupported,
      "train-prior: device '{}' needs LibTorch with CUDA and a GPU; this LibTorch has no CUDA",
      o.device);
  torch::jit::ExtraFilesMap extra{{"metadata.json", ""}};
  torch::jit::Module module = torch::jit::load(init_path, at::kCPU, extra);
  module.to(device);
  module.train(true);
  auto params = named_parameters(module);
  DIFFEVENT_CHECK(!params.empty(), ErrorCode::kInvalidArgument,
                  "train-prior: '{}' has no parameters to train", init_path);
  std::vector<at::Tensor> weights, ema;
  for (auto& [name, p] : params) {
    p.requires_grad_(true);
    weights.push_back(p);
    ema.push_back(p.detach().clone());
  }
  torch::optim::Adam adam(weights, torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));

  PriorTrainingResult result;
  int64_t step = 0;
  if (!resume.empty()) {
    std::error_code ec;
    DIFFEVENT_CHECK(fs::exists(resume, ec), ErrorCode::kIoError,
                    "train-prior: checkpoint '{}': no such file", resume);
    torch::serialize::InputArchive in;
    try {
      in.load_from(resume, device);
    } catch (const c10::Error& e) {
      throw Error(ErrorCode::kFormatError,
                  fmt::format("train-prior: checkpoint '{}' is not readable ({})", resume,
                              e.what_without_backtrace()));
    }
    at::Tensor s;
    in.read("step", s);
    step = s.item<int64_t>();
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      at::Tensor w, e;
      const bool found =
          in.try_read("model/" + params[i].first, w) && in.try_read("ema/" + params[i].first, e);
      DIFFEVENT_CHECK(found && w.sizes() == weights[i].sizes(), ErrorCode::kInvalidArgument,
                      "train-prior: checkpoint '{}' does not belong to '{}' (parameter '{}' is "
                      "missing or has another "
                      "shape)",
                      resume, init_path, params[i].first);
      weights[i].copy_(w);
      ema[i].copy_(e);
    }
    torch::serialize::InputArchive opt;
    in.read("optimizer", opt);
    adam.load(opt);
    // Adam's state carries the learning rate it was saved with; this run's --lr applies (a
    // resumed run may lower it, as fine-tuning schedules do).
    for (auto& group : adam.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(o.lr);
  }
  result.first_step = step;

  auto save_checkpoint = [&]() {
    if (o.checkpoint.empty()) return;
    torch::serialize::OutputArchive out;
    out.write("step", at::tensor(step));
    for (size_t i = 0; i < params.size(); ++i) {
      out.write("model/" + params[i].first, weights[i].detach());
      out.write("ema/" + params[i].first, ema[i]);
    }
    torch::serialize::OutputArchive opt;
    adam.save(opt);
    out.write("optimizer", opt);
    detail::write_atomically(o.checkpoint, [&](const std::string& tmp) { out.save_to(tmp); });
  };
  auto save_model = [&]() {
    // The EMA weights go out; the training weights come back afterwards.
    std::vector<at::Tensor> live;
    {
      at::NoGradGuard no_grad;
      for (size_t i = 0; i < weights.size(); ++i) {
        live.push_back(weights[i].detach().clone());
        if (o.ema > 0) weights[i].copy_(ema[i]);
      }
    }
    std::string md = extra["metadata.json"].empty() ? std::string("{}") : extra["metadata.json"];
    const size_t close = md.rfind('}');
    const std::string record = fmt::format(
        "\"training\": {{\"steps\": {}, \"batch\": {}, \"patch\": {}, \"lr\": {}, \"ema\": {}, "
        "\"seed\": {}}}",
        step, o.batch, o.patch, o.lr, o.ema, o.seed);
    const bool empty_object = md.find_first_not_of(" \t\r\n{") == close;
    if (md.find("\"training\"") == std::string::npos)
      md.insert(close, (empty_object ? "" : ", ") + record);
    module.train(false);
    module.to(at::kCPU);
    detail::write_atomically(out_path, [&](const std::string& tmp) {
      module.save(tmp, {{"metadata.json", md}});
    });
    module.to(device);
    module.train(true);
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < weights.size(); ++i) weights[i].copy_(live[i]);
  };

  // abar for every training timestep (the network sees integer t in [0, T)).
  const NoiseSchedule schedule(NoiseScheduleOptions{meta.schedule, meta.num_timesteps, ""});
  std::vector<float> abar(static_cast<size_t>(meta.num_timesteps));
  for (int k = 0; k < meta.num_timesteps; ++k)
    abar[static_cast<size_t>(k)] = static_cast<float>(schedule.alpha_bar(k));
  const at::Tensor abar_t = at::tensor(abar);
  // Per-timestep posterior coefficients, for the variational-bound term of learned variances.
  std::vector<float> c1v, c2v, log_beta, log_beta_tilde;
  for (int k = 0; k < meta.num_timesteps; ++k) {
    c1v.push_back(static_cast<float>(schedule.posterior_c1(k)));
    c2v.push_back(static_cast<float>(schedule.posterior_c2(k)));
    log_beta.push_back(static_cast<float>(std::log(schedule.beta(k))));
    log_beta_tilde.push_back(static_cast<float>(schedule.posterior_log_variance_clipped(k)));
  }
  const at::Tensor c1_t = at::tensor(c1v), c2_t = at::tensor(c2v),
                   log_beta_t = at::tensor(log_beta), log_beta_tilde_t = at::tensor(log_beta_tilde);
  const int64_t C = meta.channels;

  const auto start = std::chrono::steady_clock::now();
  double loss_sum = 0.0;
  int loss_count = 0;
  while (step < o.steps) {
    std::mt19937_64 rng(step_seed(o.seed, step));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(o.seed ^ 0xA5A5A5A5ull, step));
    const at::Tensor x0 = make_batch(data, o.batch, o.patch, rng);
    const at::Tensor t = detail::draw_timesteps(o.batch, meta.num_timesteps, o.low_noise_fraction,
                                                o.low_noise_max_t, gen);
    const at::Tensor noise = at::randn(x0.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor a = abar_t.index_select(0, t).view({o.batch, 1, 1, 1});
    const at::Tensor xt = (a.sqrt() * x0 + (1 - a).sqrt() * noise).to(device);
    const at::Tensor out = module.forward({xt, t.to(device)}).toTensor();
    DIFFEVENT_CHECK(out.dim() == 4 && out.size(0) == xt.size(0) &&
                        out.size(1) == (meta.learned_sigma ? 2 * C : C) &&
                        out.size(2) == xt.size(2) && out.size(3) == xt.size(3),
                    ErrorCode::kFormatError,
                    "train-prior: the network returned shape {} for input {}{}",
                    fmt::join(out.sizes(), "x"), fmt::join(xt.sizes(), "x"),
                    meta.learned_sigma ? " (learned variance: twice the channels)" : "");
    const at::Tensor pred = meta.learned_sigma ? out.narrow(1, 0, C) : out;
    at::Tensor loss = (pred - noise.to(device)).pow(2).mean();
    if (meta.learned_sigma) {
      // Hybrid loss: L_simple + (T / 1000) L_vlb(t), the bound's term at t for the variance
      // only (the mean is frozen: its gradient comes from L_simple), as in improved DDPM.
      auto at_t = [&](const at::Tensor& table) {
        return table.index_select(0, t).view({o.batch, 1, 1, 1}).to(device);
      };
      const at::Tensor v = out.narrow(1, C, C), frac = (v + 1) / 2;
      const at::Tensor model_logvar = frac * at_t(log_beta_t) + (1 - frac) * at_t(log_beta_tilde_t);
      const at::Tensor ad = at_t(abar_t), x0d = x0.to(device);
      const at::Tensor x0_pred = ((xt - (1 - ad).sqrt() * pred.detach()) / ad.sqrt()).clamp(-1, 1);
      const at::Tensor model_mean = at_t(c1_t) * x0_pred + at_t(c2_t) * xt;
      const at::Tensor true_mean = at_t(c1_t) * x0d + at_t(c2_t) * xt;
      const at::Tensor kl =
          detail::normal_kl(true_mean, at_t(log_beta_tilde_t), model_mean, model_logvar)
              .mean({1, 2, 3});
      const at::Tensor nll = -detail::discretized_gaussian_log_likelihood(
                                  x0d.clamp(-1, 1), model_mean, 0.5 * model_logvar)
                                  .mean({1, 2, 3});
      const at::Tensor vb =
          at::where(t.to(device) == 0, nll, kl) / std::log(2.0);  // bits per dimension
      loss = loss + vb.mean() * (static_cast<double>(meta.num_timesteps) / 1000.0);
    }
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (o.ema > 0) {
      at::NoGradGuard no_grad;
      for (size_t i = 0; i < weights.size(); ++i)
        ema[i].mul_(o.ema).add_(weights[i].detach(), 1.0 - o.ema);
    }
    const double l = loss.item<double>();
    DIFFEVENT_CHECK(std::isfinite(l), ErrorCode::kInternal,
                    "train-prior: the loss is {} at step {}; lower the learning rate (lr = {})", l,
                    step, o.lr);
    result.losses.push_back(l);
    loss_sum += l;
    ++loss_count;
    ++step;
    if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0 && step < o.steps)
      save_checkpoint();
    if (o.cancel != nullptr && o.cancel->load() && step < o.steps) {
      result.stopped = true;
      break;
    }
    if (step % o.log_every == 0 || step == o.steps) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      TrainingProgress p{step, o.steps, loss_sum / loss_count, secs,
                         static_cast<double>(step - result.first_step) / std::max(secs, 1e-9)};
      loss_sum = 0.0;
      loss_count = 0;
      if (o.on_progress && !o.on_progress(p) && step < o.steps) {
        result.stopped = true;
        break;
      }
    }
  }
  result.last_step = step;
  save_checkpoint();
  save_model();
  return result;
}

namespace detail {

at::Tensor normal_kl(const at::Tensor& mean1, const at::Tensor& logvar1, const at::Tensor& mean2,
                     const at::Tensor& logvar2) {
  return 0.5 * (-1.0 + logvar2 - logvar1 + at::exp(logvar1 - logvar2) +
                (mean1 - mean2).pow(2) * at::exp(-logvar2));
}

at::Tensor discretized_gaussian_log_likelihood(const at::Tensor& x, const at::Tensor& mean,
                                               const at::Tensor& log_scale) {
  // The standard normal CDF, as guided-diffusion approximates it (tanh form, error < 4e-4).
  auto cdf = [](const at::Tensor& z) {
    return 0.5 * (1.0 + at::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z.pow(3))));
  };
  const at::Tensor centred = x - mean, inv_std = at::exp(-log_scale);
  const at::Tensor cdf_plus = cdf(inv_std * (centred + 1.0 / 255)),
                   cdf_min = cdf(inv_std * (centred - 1.0 / 255));
  const at::Tensor log_cdf_plus = at::log(cdf_plus.clamp_min(1e-12)),
                   log_one_minus_cdf_min = at::log((1.0 - cdf_min).clamp_min(1e-12));
  const at::Tensor log_delta = at::log((cdf_plus - cdf_min).clamp_min(1e-12));
  return at::where(x < -0.999, log_cdf_plus,
                   at::where(x > 0.999, log_one_minus_cdf_min, log_delta));
}

}  // namespace detail

}  // namespace v1
}  // namespace diffevent
