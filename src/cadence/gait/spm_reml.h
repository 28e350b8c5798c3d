// Degrees of freedom under unequal group variances (spm1d's default equal_var=False for ttest2
// and anova1): spm1d's port of SPM8's spm_reml (restricted maximum likelihood estimate of one
// variance per group, Fisher scoring until the change in F is below 0.1), then the effective df
// from the traces of RV and MV. Followed step by step, since the early stop makes the answer
// depend on the iterations, not only on the likelihood's maximum. docs/gait.md has the steps.
#pragma once

#include "cadence/gait/spm_stats.h"

namespace cadence::gait::spm {

// df1 (ANOVA only; spm1d's max(trMV^2 / trMVMV, 1)) and df2 = trRV^2 / trRVRV of a grouped
// sample (two-sample or ANOVA) with `residuals` (J x Q, from the group means).
void reml_df(const Sample& s, const std::vector<double>& residuals, double& df1, double& df2);

}  // namespace cadence::gait::spm
