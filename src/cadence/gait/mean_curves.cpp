#include "cadence/gait/mean_curves.h"

#include <cmath>
#include <limits>

#include "cadence/gait/cycle_index.h"

namespace cadence::gait {
namespace {

template <class T>
void mean_of(const T* x, std::int64_t cycles, bool omit, double* out) {
  constexpr std::size_t P = kPointsPerCycle;
  double sum[P] = {};
  double count[P] = {};
  for (std::int64_t c = 0; c < cycles; ++c) {
    const T* row = x + static_cast<std::size_t>(c) * P;
    for (std::size_t p = 0; p < P; ++p) {
      const double v = static_cast<double>(row[p]);
      if (omit && std::isnan(v)) continue;
      sum[p] += v;
      count[p] += 1.0;
    }
  }
  for (std::size_t p = 0; p < P; ++p)
    out[p] = count[p] > 0.0 ? sum[p] / count[p] : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::vector<double> mean_curves(const std::vector<ColumnView>& columns, std::int64_t cycles, NanPolicy policy,
                                runtime::Job& job) {
  std::vector<double> out(columns.size() * kPointsPerCycle);
  const bool omit = policy == NanPolicy::kOmit;
  job.parallel_for(columns.size(), [&](std::size_t f) {
    double* dst = out.data() + f * kPointsPerCycle;
    if (columns[f].is_float32) mean_of(static_cast<const float*>(columns[f].data), cycles, omit, dst);
    else mean_of(static_cast<const double*>(columns[f].data), cycles, omit, dst);
  });
  return out;
}

}  // namespace cadence::gait
