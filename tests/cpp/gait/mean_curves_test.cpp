#include "cadence/gait/mean_curves.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace cadence::gait {
namespace {

TEST(MeanCurves, PointByPointWithEitherNanPolicy) {
  std::vector<double> a(3 * 150);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(i / 150);  // cycles 0, 1, 2
  a[150 + 7] = NAN;
  std::vector<float> f(3 * 150, 1.5f);
  runtime::Job job;
  const auto omit = mean_curves({{a.data(), false}, {f.data(), true}}, 3, NanPolicy::kOmit, job);
  ASSERT_EQ(omit.size(), 300u);
  EXPECT_DOUBLE_EQ(omit[0], 1.0);
  EXPECT_DOUBLE_EQ(omit[7], 1.0);  // (0 + 2) / 2: the NaN left out
  EXPECT_DOUBLE_EQ(omit[150], 1.5);
  const auto prop = mean_curves({{a.data(), false}}, 3, NanPolicy::kPropagate, job);
  EXPECT_TRUE(std::isnan(prop[7]));
  EXPECT_DOUBLE_EQ(prop[8], 1.0);
  EXPECT_TRUE(std::isnan(mean_curves({{a.data(), false}}, 0, NanPolicy::kOmit, job)[0]));  // no cycle
}

}  // namespace
}  // namespace cadence::gait
