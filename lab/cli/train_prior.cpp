// diffevent train-prior (diffevent-lab): trains or fine-tunes a TorchScript diffusion prior on
// image patches, or an r prior on simulated residuals.
#include <algorithm>
#include <iostream>

#include "cli.hpp"
#include "core/check.hpp"
#include "diffevent/diffusion.hpp"
#include "lab/prior_training.hpp"

using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

struct TrainArgs {
  std::string init, images, out, resume, checkpoint;
  diffevent::PriorTrainingOptions o;  // --help shows its defaults
  bool linear = false;
  bool residual = false;
  diffevent::ResidualDataOptions residual_data;
  std::vector<int> scales{1};
};

int run_train_prior(const TrainArgs& a, const Common& c) {
  // SIGINT from here on (loading, simulating residuals, training) stops after the current step
  // with the prior and a checkpoint saved.
  CancelOnSigint cancellable;
  const auto meta = diffevent::load_prior(a.init)->metadata();
  diffevent::TrainingData data =
      diffevent::load_training_images(a.images, meta.channels, !a.linear);
  const int originals = static_cast<int>(data.images.size());
  const int copies = diffevent::add_downscaled_copies(
      data, a.scales, a.residual ? a.residual_data.crop : a.o.patch);
  if (copies > 0)
    std::cerr << fmt::format("train-prior: {} images and {} downscaled copies (scales {})\n",
                             originals, copies, fmt::join(a.scales, ","));
  if (a.residual) {
    // An r prior: residuals y - f(E) x simulated from the photos (one sensor, or a range).
    diffevent::ResidualDataOptions ro = a.residual_data;
    ro.seed = a.o.seed;
    std::cerr << fmt::format("train-prior: simulating {} residual samples ({}x{} crops)\n",
                             ro.samples, ro.crop, ro.crop);
    data = diffevent::make_residual_training_data(data, ro);
  }
  diffevent::PriorTrainingOptions o = a.o;
  o.checkpoint = a.checkpoint.empty() ? a.out + ".ckpt" : a.checkpoint;
  o.on_progress = [&](const diffevent::TrainingProgress& p) {
    const double left = static_cast<double>(p.total - p.step) / std::max(p.steps_per_second, 1e-9);
    if (c.json_out) {
      std::cerr << json{{"step", p.step},
                        {"total", p.total},
                        {"loss", p.loss},
                        {"steps_per_second", p.steps_per_second}}
                       .dump()
                << "\n";
    } else {
      std::cerr << fmt::format(
          "train-prior: step {}/{}  loss {:.5f}  {:.2f} step/s  {:.0f} s left\n", p.step, p.total,
          p.loss, p.steps_per_second, left);
    }
    return !interrupted().load();
  };
  o.cancel = &interrupted();
  const auto r = diffevent::train_prior(a.init, data, a.out, o, a.resume);
  if (r.stopped)
    std::cerr << fmt::format("train-prior: interrupted at step {}; continue with --resume {}\n",
                             r.last_step, o.checkpoint);
  std::cout << fmt::format("train-prior: steps {} to {} on {} image(s) -> {} (checkpoint {})\n",
                           r.first_step, r.last_step, data.images.size(), a.out, o.checkpoint);
  return r.stopped ? static_cast<int>(ErrorCode::kCancelled) : 0;
}

}  // namespace

Command add_train_prior(CLI::App& app, const Common& c) {
  auto* tp = app.add_subcommand(
      "train-prior", "Train or fine-tune a TorchScript diffusion prior on image patches");
  auto a = std::make_shared<TrainArgs>();
  tp->add_option("--init", a->init,
                 "TorchScript prior to start from (lab/priors/export_prior.py makes one)")
      ->required();
  tp->add_option("--images", a->images, "Folder of training images (PNG, PFM)")->required();
  tp->add_option("--out", a->out, "Trained prior (EMA weights, TorchScript)")->required();
  tp->add_option("--steps", a->o.steps, "Total steps to reach");
  tp->add_option("--batch", a->o.batch, "Patches per step");
  tp->add_option("--patch", a->o.patch, "Patch side in pixels");
  tp->add_option("--lr", a->o.lr, "Adam learning rate");
  tp->add_option("--ema", a->o.ema, "EMA decay of the saved weights");
  tp->add_option("--seed", a->o.seed, "Seed of patches, flips, timesteps and noise");
  tp->add_option("--resume", a->resume, "Continue from this checkpoint");
  tp->add_option("--checkpoint", a->checkpoint, "Checkpoint file (default OUT.ckpt)");
  tp->add_option("--checkpoint-every", a->o.checkpoint_every, "Steps between checkpoints");
  tp->add_option("--log-every", a->o.log_every, "Steps between progress lines");
  tp->add_option("--device", a->o.device, "cpu or cuda:N");
  tp->add_flag("--linear", a->linear, "The images are linear already (default: sRGB, linearised)");
  tp->add_flag("--residual", a->residual,
               "Train an r prior on residuals y - f(E) x simulated from the photos");
  tp->add_option("--residual-samples", a->residual_data.samples, "Residual images to simulate");
  tp->add_option("--residual-crop", a->residual_data.crop, "Crop side of each simulated sample");
  tp->add_option(
      "--residual-sigma", a->residual_data.threshold_sigma,
      "Threshold mismatch of the simulated sensor (lower end with --residual-sigma-max)");
  tp->add_option("--residual-sigma-max", a->residual_data.threshold_sigma_max,
                 "Draw each sample's mismatch from [--residual-sigma, this]");
  tp->add_option("--residual-noise-hz", a->residual_data.noise_hz,
                 "Noise events per pixel per second (lower end with --residual-noise-hz-max)");
  tp->add_option("--residual-noise-hz-max", a->residual_data.noise_hz_max,
                 "Draw each sample's noise rate from [--residual-noise-hz, this]");
  tp->add_option("--residual-threshold-error", a->residual_data.threshold_error,
                 "Residuals computed with a threshold off by up to this fraction (0: exact)");
  tp->add_option("--scales", a->scales,
                 "Also train on copies downscaled by these factors, e.g. 1,2,4 (copies smaller "
                 "than a patch are skipped)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  tp->add_option("--low-noise-fraction", a->o.low_noise_fraction,
                 "Fraction of each batch trained at timesteps below --low-noise-max-t (0: "
                 "uniform)");
  tp->add_option("--low-noise-max-t", a->o.low_noise_max_t,
                 "Upper timestep of the low-noise draws");
  return {tp, [a, &c] { return run_train_prior(*a, c); }};
}

}  // namespace diffevent_cli
