// A consumer of diffevent::diffevent (LibTorch): the linear schedule's alpha-bar at step 0 is
// 1 - beta_0 = 1 - 1e-4 (scaled to 1000 steps).
#include <cmath>
#include <cstdio>

#include "diffevent/diffusion/noise_schedule.hpp"

int main() {
  const diffevent::NoiseSchedule s;  // linear, 1000 steps
  const double a0 = s.alpha_bar(0);
  std::printf("alpha_bar(0) = %.8f\n", a0);
  return std::fabs(a0 - (1.0 - 1e-4)) < 1e-9 ? 0 : 1;
}
