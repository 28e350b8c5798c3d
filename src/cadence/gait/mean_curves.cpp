#include "cadence/gait/mean_curves.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace cadence::gait {
namespace {

constexpr std::int64_t P = kPointsPerCycle;

// Adds rows [0, n) of x to the point accumulators, row 0 being point `point` of its cycle. The
// whole-cycle middle is a fixed 150-point loop the compiler vectorises; the NaN test keeps the
// sum's order and values (adding 0.0 to a sum that starts at +0.0 changes nothing).
template <class T, bool kOmit>
void accumulate(const T* x, std::int64_t n, std::int64_t point, double* sum, std::uint32_t* count) {
  auto one = [&](std::int64_t p, double v) {
    if constexpr (kOmit) {
      const bool nan = std::isnan(v);
      sum[p] += nan ? 0.0 : v;
      count[p] += nan ? 0u : 1u;
    } else {
      sum[p] += v;
    }
  };
  std::int64_t i = 0;
  if (point != 0) {  // the end of a cycle begun in an earlier segment
    for (; i < n && point < P; ++i, ++point) one(point, static_cast<double>(x[i]));
  }
  for (; i + P <= n; i += P) {
    const T* row = x + i;
    for (std::int64_t p = 0; p < P; ++p) one(p, static_cast<double>(row[p]));
  }
  for (std::int64_t p = 0; i < n; ++i, ++p) one(p, static_cast<double>(x[i]));  // a cycle's start
}

template <class T>
void accumulate(const T* x, std::int64_t n, std::int64_t point, bool omit, double* sum, std::uint32_t* count) {
  if (omit) accumulate<T, true>(x, n, point, sum, count);
  else accumulate<T, false>(x, n, point, sum, count);
}

}  // namespace

MeanCurveStream::MeanCurveStream(const CycleIndex& index, std::size_t features, NanPolicy policy, runtime::Job& job)
    : runs_(index.runs), features_(features), omit_(policy == NanPolicy::kOmit), job_(job),
      index_rows_(index.rows) {
  group_rows_.reserve(index.groups.size());
  for (const auto& g : index.groups) group_rows_.push_back(g.rows);
  group_seen_.assign(index.groups.size(), 0);
  const std::size_t values = index.groups.size() * features * P;
  const std::uint64_t bytes = values * (sizeof(double) + (omit_ ? sizeof(std::uint32_t) : 0));
  auto& budget = job.budget();
  if (budget.limit_bytes() != 0 && budget.reserved_bytes() + bytes > budget.limit_bytes())
    throw std::invalid_argument("memory limit too small: the mean curves of " + std::to_string(index.groups.size()) +
                                " subject x task groups x " + std::to_string(features) + " features need " +
                                std::to_string((bytes >> 20) + 1) + " MiB; raise the memory limit");
  reservation_ = runtime::Reservation(budget, bytes, &job.cancellation());
  sums_.assign(values, 0.0);
  if (omit_) counts_.assign(values, 0u);
}

void MeanCurveStream::push(const std::vector<ColumnView>& columns, std::int64_t rows) {
  if (columns.size() != features_) throw std::invalid_argument("MeanCurveStream::push: one column per feature");
  if (rows < 0 || rows_seen_ + rows > index_rows_)
    throw std::invalid_argument("MeanCurveStream::push: more rows than the index holds (" +
                                std::to_string(rows_seen_ + rows) + " > " + std::to_string(index_rows_) + ")");
  std::vector<Segment> segments;
  for (std::int64_t at = 0; at < rows;) {
    const Run& run = runs_.at(next_run_);
    const std::int64_t n = std::min(run.rows - run_done_, rows - at);
    if (group_rows_[run.group] % P == 0) segments.push_back({run.group, at, n, group_seen_[run.group]});
    group_seen_[run.group] += n;
    at += n;
    run_done_ += n;
    if (run_done_ == run.rows) {
      ++next_run_;
      run_done_ = 0;
    }
  }
  rows_seen_ += rows;
  job_.parallel_for(features_, [&](std::size_t f) {
    for (const auto& s : segments) {
      const std::size_t slot = (static_cast<std::size_t>(s.group) * features_ + f) * P;
      std::uint32_t* count = omit_ ? counts_.data() + slot : nullptr;
      const std::int64_t point = s.offset % P;
      if (columns[f].is_float32)
        accumulate(static_cast<const float*>(columns[f].data) + s.first, s.rows, point, omit_, sums_.data() + slot, count);
      else
        accumulate(static_cast<const double*>(columns[f].data) + s.first, s.rows, point, omit_, sums_.data() + slot, count);
    }
  });
}

std::vector<double> MeanCurveStream::finish() {
  if (rows_seen_ != index_rows_)
    throw std::invalid_argument("MeanCurveStream::finish: " + std::to_string(rows_seen_) + " rows pushed, the index has " +
                                std::to_string(index_rows_));
  std::vector<double> out(sums_.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t g = 0; g < group_rows_.size(); ++g) {
    if (group_rows_[g] % P != 0 || group_rows_[g] == 0) continue;
    const double cycles = static_cast<double>(group_rows_[g] / P);
    for (std::size_t i = g * features_ * P; i < (g + 1) * features_ * P; ++i) {
      const double n = omit_ ? static_cast<double>(counts_[i]) : cycles;
      if (n > 0.0) out[i] = sums_[i] / n;
    }
  }
  return out;
}

}  // namespace cadence::gait
