// Deblur one frame with the EDI double integral: sharp = blurry / E.
// Usage: example_edi blur.png events.h5 out.png [threshold]
#include <cstdio>
#include <cstdlib>

#include "diffevent/events.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s blur.png events.(h5|txt|raw|mat|...) out.png [threshold]\n",
                 argv[0]);
    return 64;
  }
  try {
    // 1. Read the blurry frame and the events of its exposure.
    const diffevent::Image blurry = diffevent::read_image(argv[1]);
    const diffevent::EventFile file = diffevent::read_events(argv[2]);
    if (file.exposures.empty()) {
      std::fprintf(stderr, "%s does not state its exposure window\n", argv[2]);
      return 1;
    }
    const diffevent::Exposure exposure = file.exposures.front();

    // 2. EDI with a known contrast threshold (log units).
    const double c = argc > 4 ? std::atof(argv[4]) : 0.2;
    const diffevent::Edi edi(diffevent::EdiOptions::with_threshold(c));
    const diffevent::Image sharp = edi.deblur(blurry, file.events, exposure);

    // 3. Write the result (atomically: a temporary file, then rename).
    diffevent::write_image(argv[3], sharp);
    std::printf("%zu events over [%lld, %lld] us, c = %.3f -> %s\n", file.events.size(),
                static_cast<long long>(exposure.t0_us), static_cast<long long>(exposure.t1_us), c,
                argv[3]);
    return 0;
  } catch (const diffevent::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
