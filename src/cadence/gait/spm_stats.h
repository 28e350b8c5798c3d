// The test statistics of 1-D statistical parametric mapping (spm1d 0.4.55's spm1d.stats and
// spm1d.stats.nonparam calculators): one-sample t (paired = one-sample on the differences),
// two-sample t with pooled variance, simple regression t, one-way ANOVA F (and, in
// spm_anova1rm.h, the repeated-measures one); the smoothness (FWHM)
// of the residuals and the resel counts. Formulas in docs/gait.md ("SPM: the formulas").
#pragma once

#include <cstddef>
#include <vector>

#include "cadence/gait/spm_rft.h"

namespace cadence::gait::spm {

enum class Design { kOneSample = 0, kTwoSample = 1, kRegression = 2, kAnova1 = 3, kAnova1rm = 4 };

// J observations of Q nodes (row-major, finite), and the design's per-row input: `groups`
// (two-sample: 0 = A, 1 = B; ANOVA: 0..n_groups-1 in the order of the sorted labels) or `x`
// (regression). Views: the caller owns the memory.
struct Sample {
  Design design = Design::kOneSample;
  const double* y = nullptr;
  std::size_t rows = 0;
  std::size_t nodes = 0;
  const int* groups = nullptr;
  int n_groups = 0;
  const double* x = nullptr;
  // Repeated-measures ANOVA (spm_anova1rm.h): the subject of each row, 0..n_subjects-1; `groups`
  // holds its condition.
  const int* subjects = nullptr;
  int n_subjects = 0;
  // Two-sample and ANOVA: false estimates the df for unequal group variances (spm_reml.h).
  bool equal_var = true;
};

// A statistic field with what inference needs.
struct Field {
  Stat stat = Stat::kT;
  std::vector<double> z;
  double df1 = 1.0, df2 = 1.0;
  double fwhm = 0.0;
  double resels0 = 1.0, resels1 = 0.0;
};

// Checks the sample's shape and design input; throws std::invalid_argument saying what is wrong.
void check(const Sample& s);

// The parametric statistic (spm1d.stats: GLM t with eps in the denominator, ANOVA F), with the
// FWHM estimated from the model's residuals and resels (1, (Q-1)/FWHM).
Field fit(const Sample& s);

// FWHM of a set of residual fields (J x Q): spm1d's estimate_fwhm (central-difference gradient).
double estimate_fwhm(const double* residuals, std::size_t rows, std::size_t nodes);

// Scratch space and the statistic of one relabelling (spm1d.stats.nonparam calculators): signs
// (one-sample, +1/-1 per row), group labels per row (two-sample, ANOVA) or the row order
// (regression: row j of the field uses observation order[j]).
class PermutedStatistic {
 public:
  explicit PermutedStatistic(const Sample& s);
  void one_sample(const double* signs, double* out);
  void grouped(const int* groups, double* out);
  void regression(const int* order, double* out);

 private:
  const Sample& s_;
  std::vector<double> sum_, sq_;
  std::vector<double> counts_;
  double sxx_ = 0.0, xbar_ = 0.0;
};

}  // namespace cadence::gait::spm
