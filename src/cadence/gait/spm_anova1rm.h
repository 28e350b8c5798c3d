// One-way repeated-measures ANOVA of 1-D curves (spm1d 0.4.55's spm1d.stats.anova1rm): k
// conditions measured on the same n subjects, r >= 1 curves per subject and condition (balanced).
// spm1d fits the linear model Intercept + A + S + SA by QR and tests A against SA; in a balanced
// design that is the classic
//   F = (SS_A / (k-1)) / (SS_SA / ((k-1)(n-1))),
//   SS_A  = n r sum_a (m_a - m)^2,  SS_SA = r sum_{s,a} (m_sa - m_s - m_a + m)^2
// (m: grand mean, m_a condition, m_s subject, m_sa cell means, node by node). Its smoothness comes
// from the residuals spm1d uses: with one curve per subject and condition (r = 1, the model is
// saturated) its "approximate residuals", of Y regressed on three columns only (1, [condition is
// not the first], [subject is not the first]: each term's treatment-coded columns summed); with
// replicates, y - m_sa. Formulas in docs/gait.md ("SPM: the formulas").
#pragma once

#include "cadence/gait/spm_stats.h"

namespace cadence::gait::spm {

// Throws std::invalid_argument unless every subject has the same number (>= 1) of curves in every
// condition, with at least 2 subjects and 2 conditions.
void check_anova1rm(const Sample& s);

// The F field, df (k-1, (k-1)(n-1)), FWHM and resels.
Field fit_anova1rm(const Sample& s);

// Whether each subject has one curve per condition (spm1d's approximate residuals, and its warning).
bool single_responses(const Sample& s);

}  // namespace cadence::gait::spm
