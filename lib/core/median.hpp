#pragma once
/// \file median.hpp
/// The median of a sample. Private to the library and its tools.

#include <algorithm>
#include <cstddef>
#include <vector>

namespace diffevent {
inline namespace v1 {
namespace detail {

/// The median of `v` (the mean of the two middle values for an even count); `v` is taken by
/// value and reordered. Not empty.
inline double median(std::vector<double> v) {
  const size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  const double hi = v[h];
  if (v.size() % 2 == 1) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)));
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
