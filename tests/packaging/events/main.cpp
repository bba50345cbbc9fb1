// A consumer of diffevent::events: EDI of a flat frame whose pixel (1, 1) saw one ON event at
// mid-exposure; E there is (1 + e^c) / 2 by the double integral, so sharp = 1 / E.
#include <cmath>
#include <cstdio>

#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"
#include "diffevent/version.hpp"

int main() {
  using namespace diffevent;
  EventStream ev(4, 4);
  ev.push_back(50, 1, 1, +1);
  Image blurry(1, 4, 4, 1.0f);
  EdiOptions o = EdiOptions::with_threshold(0.2);
  o.tau_us = 0;  // reference at the start: E = (1/T) * integral of exp(c * count(0..t))
  const Image sharp = Edi(o).deblur(blurry, ev, Exposure{0, 100});
  const double expect = 1.0 / ((1.0 + std::exp(0.2)) / 2.0);
  std::printf("diffevent %s: sharp(1,1) = %.6f, expected %.6f\n", DIFFEVENT_VERSION_STRING,
              sharp.at(0, 1, 1), expect);
  return std::fabs(sharp.at(0, 1, 1) - expect) < 1e-4 ? 0 : 1;
}
