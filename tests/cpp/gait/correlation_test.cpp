#include "cadence/gait/correlation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cadence/gait/lanes.h"

namespace cadence::gait {
namespace {

// Reference: two-pass Pearson r in long double over the rows where both values are present.
double reference(const std::vector<double>& a, const std::vector<double>& b, bool omit) {
  long double sa = 0, sb = 0;
  long n = 0;
  for (std::size_t r = 0; r < a.size(); ++r) {
    if (omit && (std::isnan(a[r]) || std::isnan(b[r]))) continue;
    sa += a[r];
    sb += b[r];
    ++n;
  }
  const long double ma = sa / n, mb = sb / n;
  long double ab = 0, aa = 0, bb = 0;
  for (std::size_t r = 0; r < a.size(); ++r) {
    if (omit && (std::isnan(a[r]) || std::isnan(b[r]))) continue;
    ab += (a[r] - ma) * (b[r] - mb);
    aa += (a[r] - ma) * (a[r] - ma);
    bb += (b[r] - mb) * (b[r] - mb);
  }
  return static_cast<double>(ab / std::sqrt(aa * bb));
}

std::vector<std::vector<double>> make_columns(int features, std::int64_t rows, double offset, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<std::vector<double>> cols(features, std::vector<double>(rows));
  for (std::int64_t r = 0; r < rows; ++r) {
    const double shared = noise(rng);
    for (int f = 0; f < features; ++f)
      cols[f][r] = offset + (f % 3 - 1) * shared + 0.3 * f * noise(rng) + std::sin(0.01 * f * r);
  }
  return cols;
}

std::vector<ColumnView> views(const std::vector<std::vector<double>>& cols) {
  std::vector<ColumnView> v;
  for (const auto& c : cols) v.push_back({c.data(), false});
  return v;
}

TEST(Correlation, MatchesALongDoubleReferenceWithALargeOffset) {
  // 1e6 offset: a sum-of-squares formula loses ~12 digits here; the block-centred one must not.
  for (std::int64_t rows : {1, 7, 255, 256, 257, 150 * 61 + 3, 40000}) {
    const auto cols = make_columns(7, rows, 1e6, 3);
    runtime::Job job({2, 0});
    const auto r = feature_correlations(views(cols), rows, NanPolicy::kPropagate, job);
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 7; ++j) {
        if (rows < 2) {
          EXPECT_TRUE(std::isnan(r[i * 7 + j]));
          continue;
        }
        const double want = i == j ? 1.0 : reference(cols[i], cols[j], false);
        EXPECT_NEAR(r[i * 7 + j], want, 1e-9) << rows << " rows, " << i << "," << j;
        EXPECT_EQ(r[i * 7 + j], r[j * 7 + i]);
      }
  }
}

TEST(Correlation, SameBitsForAnyNumberOfThreadsAndFloat32Input) {
  const auto cols = make_columns(9, 50000, 0.0, 5);
  runtime::Job one({1, 0}), two({2, 0});
  EXPECT_EQ(feature_correlations(views(cols), 50000, NanPolicy::kPropagate, one),
            feature_correlations(views(cols), 50000, NanPolicy::kPropagate, two));
  std::vector<std::vector<float>> f32(9);
  std::vector<std::vector<double>> widened(9);
  std::vector<ColumnView> v32;
  for (int f = 0; f < 9; ++f) {
    f32[f].assign(cols[f].begin(), cols[f].end());
    widened[f].assign(f32[f].begin(), f32[f].end());
    v32.push_back({f32[f].data(), true});
  }
  EXPECT_EQ(feature_correlations(v32, 50000, NanPolicy::kPropagate, two),
            feature_correlations(views(widened), 50000, NanPolicy::kPropagate, two));
}

// The AVX-512 build's 4 x 4 tiles of 8-lane vectors and the AVX2/SSE2 builds' 2 x 2 tiles sum
// every pair in the same order: bit-identical matrices (13 features: a padded last tile).
TEST(Correlation, SameBitsForFourAndEightLanes) {
  if (CADENCE_HAVE_AVX512_BUILD && lanes::simd_width() != 8) GTEST_SKIP() << "AVX-512 path: this CPU has no AVX-512";
  auto cols = make_columns(13, 40003, 50.0, 17);
  cols[4][999] = std::nan("");
  runtime::Job job({2, 0});
  for (NanPolicy policy : {NanPolicy::kPropagate, NanPolicy::kOmit}) {
    const auto four = feature_correlations(views(cols), 40003, policy, job, 4);
    const auto eight = feature_correlations(views(cols), 40003, policy, job, 8);
    ASSERT_EQ(four.size(), eight.size());
    EXPECT_EQ(std::memcmp(four.data(), eight.data(), four.size() * sizeof(double)), 0);
    EXPECT_NEAR(four[1], reference(cols[0], cols[1], false), 1e-12);
  }
}

TEST(Correlation, NanPoliciesAndConstantFeatures) {
  auto cols = make_columns(4, 3000, 2.0, 9);
  cols[1][1234] = std::nan("");
  cols[1][17] = std::nan("");
  cols[2][5] = std::nan("");
  std::fill(cols[3].begin(), cols[3].end(), 4.25);  // zero variance
  runtime::Job job({2, 0});
  const auto prop = feature_correlations(views(cols), 3000, NanPolicy::kPropagate, job);
  EXPECT_DOUBLE_EQ(prop[0], 1.0);
  for (int j = 0; j < 4; ++j) {
    EXPECT_TRUE(std::isnan(prop[1 * 4 + j]));
    EXPECT_TRUE(std::isnan(prop[j * 4 + 1]));
    EXPECT_TRUE(std::isnan(prop[3 * 4 + j]));
  }
  const auto omit = feature_correlations(views(cols), 3000, NanPolicy::kOmit, job);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_NEAR(omit[i * 4 + j], i == j ? 1.0 : reference(cols[i], cols[j], true), 1e-12) << i << "," << j;
  for (int j = 0; j < 4; ++j) EXPECT_TRUE(std::isnan(omit[3 * 4 + j]));
}

TEST(Correlation, PartsTakenTogetherEqualTheirConcatenation) {
  const auto cols = make_columns(6, 20000, 3e4, 21);
  std::vector<std::vector<ColumnView>> parts(3);
  const std::vector<std::int64_t> begin = {0, 7001, 7001}, rows = {7001, 0, 12999};  // an empty part too
  for (int p = 0; p < 3; ++p)
    for (const auto& c : cols) parts[p].push_back({c.data() + begin[p], false});
  runtime::Job job({2, 0});
  for (NanPolicy policy : {NanPolicy::kPropagate, NanPolicy::kOmit}) {
    const auto got = feature_correlations(parts, rows, policy, job);
    const auto whole = feature_correlations(views(cols), 20000, policy, job);
    for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], whole[k], 1e-10) << k;  // chunked apart
  }
  EXPECT_THROW(feature_correlations(parts, {1, 2}, NanPolicy::kOmit, job), std::invalid_argument);
}

TEST(Correlation, OmitIsStableWithALargeOffsetAndManyNans) {
  const std::int64_t rows = 30000;  // several chunks
  auto cols = make_columns(5, rows, 1e6, 13);
  std::mt19937_64 rng(1);
  for (int f = 0; f < 4; ++f)  // ~3 % missing in four columns, none in the last
    for (int k = 0; k < 900; ++k) cols[f][rng() % rows] = std::nan("");
  for (std::int64_t r = 0; r < 600; ++r) cols[2][r] = std::nan("");  // a whole first block missing
  runtime::Job one({1, 0}), two({2, 0});
  const auto got = feature_correlations(views(cols), rows, NanPolicy::kOmit, two);
  EXPECT_EQ(got, feature_correlations(views(cols), rows, NanPolicy::kOmit, one));
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_NEAR(got[i * 5 + j], i == j ? 1.0 : reference(cols[i], cols[j], true), 1e-9) << i << "," << j;
}

}  // namespace
}  // namespace cadence::gait
