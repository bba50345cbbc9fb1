#include "diffevent/diffusion/noise_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

std::vector<double> base_betas(BetaSchedule s, int T) {
  std::vector<double> b(static_cast<size_t>(T));
  if (s == BetaSchedule::kLinear) {
    const double scale = 1000.0 / T, lo = scale * 1e-4, hi = scale * 0.02;
    for (int i = 0; i < T; ++i)
      b[static_cast<size_t>(i)] = T == 1 ? lo : lo + (hi - lo) * i / (T - 1);
  } else {
    auto abar = [](double t) {
      const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
      return c * c;
    };
    for (int i = 0; i < T; ++i) {
      b[static_cast<size_t>(i)] =
          std::min(1.0 - abar(double(i + 1) / T) / abar(double(i) / T), 0.999);
    }
  }
  return b;
}

}  // namespace

std::vector<int64_t> NoiseSchedule::space_timesteps(int T, const std::string& spec) {
  std::vector<int64_t> out;
  if (spec.empty()) {
    for (int i = 0; i < T; ++i) out.push_back(i);
    return out;
  }
  if (spec.rfind("ddim", 0) == 0) {
    int n = 0;
    try {
      n = std::stoi(spec.substr(4));
    } catch (const std::exception&) {
      throw Error(ErrorCode::kInvalidArgument, fmt::format("respacing '{}': expected ddimN", spec));
    }
    for (int stride = 1; stride < T; ++stride) {
      if ((T + stride - 1) / stride == n) {
        for (int i = 0; i < T; i += stride) out.push_back(i);
        return out;
      }
    }
    throw Error(
        ErrorCode::kInvalidArgument,
        fmt::format("respacing '{}': no integer stride gives exactly {} of {} steps", spec, n, T));
  }
  std::vector<int> counts;
  size_t pos = 0;
  while (pos <= spec.size()) {
    const size_t comma = spec.find(',', pos);
    const std::string tok =
        spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    try {
      size_t used = 0;
      counts.push_back(std::stoi(tok, &used));
      if (used != tok.size()) throw std::invalid_argument(tok);
    } catch (const std::exception&) {
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("respacing '{}': '{}' is not a step count", spec, tok));
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  // Equal sections (the first T % sections get one extra), `count` evenly spaced picks in each.
  const int sections = static_cast<int>(counts.size());
  const int size_per = T / sections, extra = T % sections;
  int start = 0;
  std::set<int64_t> kept;
  for (int i = 0; i < sections; ++i) {
    const int size = size_per + (i < extra ? 1 : 0);
    const int count = counts[static_cast<size_t>(i)];
    DIFFEVENT_CHECK(count >= 1 && count <= size, ErrorCode::kInvalidArgument,
                    "respacing '{}': cannot take {} steps from a section of {}", spec, count, size);
    const double frac = count <= 1 ? 1.0 : double(size - 1) / (count - 1);
    double cur = 0;
    for (int j = 0; j < count; ++j) {
      kept.insert(start + static_cast<int64_t>(std::llround(cur)));
      cur += frac;
    }
    start += size;
  }
  return std::vector<int64_t>(kept.begin(), kept.end());
}

NoiseSchedule::NoiseSchedule(const NoiseScheduleOptions& o) {
  DIFFEVENT_CHECK(o.num_timesteps >= 1 && o.num_timesteps <= 100000, ErrorCode::kInvalidArgument,
                  "noise schedule: num_timesteps = {} must be in [1, 100000]", o.num_timesteps);
  const std::vector<double> base = base_betas(o.schedule, o.num_timesteps);
  std::vector<double> base_abar(base.size());
  double a = 1.0;
  for (size_t i = 0; i < base.size(); ++i) base_abar[i] = (a *= 1.0 - base[i]);
  map_ = space_timesteps(o.num_timesteps, o.respacing);
  // Respaced betas keep alpha_bar at the kept indices (guided-diffusion's SpacedDiffusion).
  double last = 1.0;
  int64_t prev = -1;
  for (int64_t i : map_) {
    const double ab = base_abar[static_cast<size_t>(i)];
    // Consecutive indices keep the base beta exactly (the ratio form loses an ulp).
    betas_.push_back(i == prev + 1 ? base[static_cast<size_t>(i)] : 1.0 - ab / last);
    prev = i;
    abar_.push_back(ab);
    last = ab;
  }
}

double NoiseSchedule::posterior_c1(int k) const {
  return beta(k) * std::sqrt(alpha_bar_prev(k)) / (1.0 - alpha_bar(k));
}

double NoiseSchedule::posterior_c2(int k) const {
  return (1.0 - alpha_bar_prev(k)) * std::sqrt(1.0 - beta(k)) / (1.0 - alpha_bar(k));
}

double NoiseSchedule::posterior_variance(int k) const {
  return beta(k) * (1.0 - alpha_bar_prev(k)) / (1.0 - alpha_bar(k));
}

double NoiseSchedule::posterior_log_variance_clipped(int k) const {
  if (k == 0 && num_steps() > 1) return std::log(posterior_variance(1));
  return std::log(posterior_variance(k));
}

double NoiseSchedule::sigma2(int k, VarianceType type, double v) const {
  switch (type) {
    case VarianceType::kFixedSmall:
      return posterior_variance(k);
    case VarianceType::kFixedLarge:
      return k == 0 && num_steps() > 1 ? posterior_variance(1) : beta(k);
    case VarianceType::kLearnedRange: {
      const double f = (v + 1.0) / 2.0;
      return std::exp(f * std::log(beta(k)) + (1.0 - f) * posterior_log_variance_clipped(k));
    }
  }
  return 0.0;
}

double NoiseSchedule::ddim_sigma(int k, double eta) const {
  const double ab = alpha_bar(k), abp = alpha_bar_prev(k);
  return eta * std::sqrt((1.0 - abp) / (1.0 - ab)) * std::sqrt(1.0 - ab / abp);
}

}  // namespace v1
}  // namespace diffevent
