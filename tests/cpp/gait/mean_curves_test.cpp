#include "cadence/gait/mean_curves.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace cadence::gait {
namespace {

constexpr std::int64_t P = kPointsPerCycle;

// Runs of (subject, task, rows), in file order: group (0, 0) comes back in halves of a cycle,
// so one of its cycles is split across two runs; group (2, 1) is not whole cycles.
struct Layout {
  std::vector<std::int32_t> subject, task;
  std::vector<double> a;  // float64 feature, a NaN in it
  std::vector<float> b;   // float32 feature
  std::vector<std::vector<double>> of_group[3][2];  // [subject][task] -> rows of a, b in file order

  void run(int s, int t, std::int64_t rows) {
    for (std::int64_t i = 0; i < rows; ++i) {
      subject.push_back(s);
      task.push_back(t);
      const double v = std::sin(0.37 * static_cast<double>(a.size())) * (1 + s) + t;
      a.push_back(a.size() == 400 ? NAN : v);
      b.push_back(static_cast<float>(v * 0.5));
    }
  }
};

Layout layout() {
  Layout l;
  l.run(0, 0, 2 * P + 75);
  l.run(1, 0, 3 * P);
  l.run(2, 1, 2 * P + 1);
  l.run(0, 0, 75);
  l.run(1, 1, P);
  return l;
}

CycleIndex index_of(const Layout& l) {
  CycleIndexBuilder builder;
  builder.append({l.subject.data(), l.task.data(), nullptr, nullptr, static_cast<std::int64_t>(l.subject.size())});
  return builder.finish();
}

// The means written out: a group's rows in file order, point = k mod 150.
std::vector<double> expected(const Layout& l, const CycleIndex& ix, bool omit) {
  std::vector<double> out(ix.groups.size() * 2 * P, NAN);
  for (std::size_t g = 0; g < ix.groups.size(); ++g) {
    const auto& info = ix.groups[g];
    if (info.rows % P) continue;
    for (int f = 0; f < 2; ++f) {
      std::vector<double> sum(P, 0.0), n(P, 0.0);
      std::int64_t k = 0;
      for (std::size_t r = 0; r < l.subject.size(); ++r) {
        if (l.subject[r] != info.subject || l.task[r] != info.task) continue;
        const double v = f == 0 ? l.a[r] : static_cast<double>(l.b[r]);
        if (!(omit && std::isnan(v))) {
          sum[k % P] += v;
          n[k % P] += 1;
        }
        ++k;
      }
      for (std::int64_t p = 0; p < P; ++p)
        if (n[p] > 0) out[(g * 2 + f) * P + p] = sum[p] / n[p];
    }
  }
  return out;
}

std::vector<double> streamed(const Layout& l, const CycleIndex& ix, NanPolicy policy, std::int64_t batch) {
  runtime::Job job;
  MeanCurveStream s(ix, 2, policy, job);
  const auto rows = static_cast<std::int64_t>(l.a.size());
  for (std::int64_t at = 0; at < rows; at += batch) {
    const std::int64_t n = std::min(batch, rows - at);
    s.push({{l.a.data() + at, false}, {l.b.data() + at, true}}, n);
  }
  return s.finish();
}

bool same_bits(const std::vector<double>& x, const std::vector<double>& y) {
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

TEST(MeanCurveStream, EveryGroupsMeansWhateverTheBatchesEitherNanPolicy) {
  const Layout l = layout();
  const CycleIndex ix = index_of(l);
  ASSERT_EQ(ix.groups.size(), 4u);
  for (const auto policy : {NanPolicy::kOmit, NanPolicy::kPropagate}) {
    const auto want = expected(l, ix, policy == NanPolicy::kOmit);
    for (const std::int64_t batch : {1, 7, 149, 150, 151, 1000, 100000}) {
      const auto got = streamed(l, ix, policy, batch);
      EXPECT_TRUE(same_bits(got, want)) << "batch " << batch << " policy " << static_cast<int>(policy);
    }
    // the NaN at file row 400 (group (1, 0), its row 25): left out, or its point's mean NaN
    const std::size_t g10 = static_cast<std::size_t>(ix.find_group(1, 0));
    const double at_nan = want[(g10 * 2 + 0) * P + 25];
    EXPECT_EQ(std::isnan(at_nan), policy == NanPolicy::kPropagate);
  }
  // group (2, 1) is 301 rows: all NaN; group (0, 0) has 3 whole cycles (one split across runs)
  const auto got = streamed(l, ix, NanPolicy::kOmit, 64);
  const std::size_t g21 = static_cast<std::size_t>(ix.find_group(2, 1));
  for (std::int64_t i = 0; i < 2 * P; ++i) EXPECT_TRUE(std::isnan(got[g21 * 2 * P + i]));
  const std::size_t g00 = static_cast<std::size_t>(ix.find_group(0, 0));
  const double first = (l.a[0] + l.a[P] + l.a[2 * P]) / 3.0;
  EXPECT_DOUBLE_EQ(got[g00 * 2 * P], first);
  // point 100 of the third cycle is row 25 of the second run of (0, 0)
  const std::size_t second_run = 2 * P + 75 + 3 * P + 2 * P + 1;
  const double p100 = (l.a[100] + l.a[P + 100] + l.a[second_run + 25]) / 3.0;
  EXPECT_DOUBLE_EQ(got[g00 * 2 * P + 100], p100);
}

TEST(MeanCurveStream, RefusesTooManyRowsTooFewAndATooSmallBudget) {
  const Layout l = layout();
  const CycleIndex ix = index_of(l);
  runtime::Job job;
  MeanCurveStream s(ix, 2, NanPolicy::kOmit, job);
  s.push({{l.a.data(), false}, {l.b.data(), true}}, 10);
  EXPECT_THROW(s.finish(), std::invalid_argument);  // rows left
  EXPECT_THROW(s.push({{l.a.data(), false}, {l.b.data(), true}}, static_cast<std::int64_t>(l.a.size())),
               std::invalid_argument);
  EXPECT_THROW(s.push({{l.a.data(), false}}, 1), std::invalid_argument);  // one column short
  runtime::Job small({0, 1000});
  EXPECT_THROW(MeanCurveStream(ix, 2, NanPolicy::kOmit, small), std::invalid_argument);
  EXPECT_EQ(small.budget().reserved_bytes(), 0u);
}

}  // namespace
}  // namespace cadence::gait
