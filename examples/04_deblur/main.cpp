// Deblur one frame with DiffEvent: the EBRD model y = f(E) x + r sampled by Algorithm 1 with the
// shipped priors (found in $DIFFEVENT_MODELS or an install's share/diffevent/models).
// Usage: example_deblur blur.png events.h5 out.png [fast|balanced|best|paper] [seed]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "diffevent/core/models.hpp"
#include "diffevent/diffevent.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/diffusion_prior.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s blur.png events.h5 out.png [fast|balanced|best|paper] [seed]\n",
                 argv[0]);
    return 64;
  }
  try {
    // 1. The blurry frame and the events of its exposure.
    const diffevent::Image blurry = diffevent::read_image(argv[1]);
    const diffevent::EventFile file = diffevent::read_events(argv[2]);
    if (file.exposures.empty()) {
      std::fprintf(stderr, "%s does not state its exposure window\n", argv[2]);
      return 1;
    }

    // 2. A preset's options (the library's defaults otherwise) and the shipped priors.
    const std::string preset = argc > 4 ? argv[4] : "fast";
    diffevent::DeblurOptions options =
        diffevent::deblur_options(diffevent::parse_deblur_preset(preset));
    options.sampler.seed = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 0;
    const int channels = blurry.channels();
    std::shared_ptr<diffevent::DiffusionPrior> x_prior = diffevent::load_prior(
        diffevent::find_shipped_prior(diffevent::PriorRole::kX, channels, {}));
    std::shared_ptr<diffevent::DiffusionPrior> r_prior;
    if (options.residual_prior)
      r_prior = diffevent::load_prior(
          diffevent::find_shipped_prior(diffevent::PriorRole::kR, channels, {}));

    // 3. Deblur and write the sharp frame.
    options.sampler.progress = [](int done, int total) {
      std::fprintf(stderr, "step %d/%d\n", done, total);
      return true;  // false cancels
    };
    const diffevent::DeblurResult result =
        diffevent::deblur(blurry, file.events, file.exposures.front(), x_prior, r_prior, options);
    diffevent::write_image(argv[3], result.sharp);
    std::printf("%s preset, c = %.3f -> %s\n", preset.c_str(), result.c_pos, argv[3]);
    return 0;
  } catch (const diffevent::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
