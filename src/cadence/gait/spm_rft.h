// Random field theory for 1-D statistical parametric maps (spm1d 0.4.55's rft1d, node-based
// sampling, spm12 variant): the critical threshold of a t or F field, cluster-level and set-level
// p values. Formulas in docs/gait.md ("SPM: the formulas"); they follow Worsley et al. (1996)
// and Friston et al. (1994) in one dimension, with spm1d's Bonferroni comparison over the Q nodes
// for the threshold.
#pragma once

#include <cstddef>

namespace cadence::gait::spm {

enum class Stat { kT = 0, kF = 1 };

// What the probabilities of one field depend on.
struct RftField {
  Stat stat = Stat::kT;
  double df1 = 1.0;      // effect degrees of freedom (1 for t)
  double df2 = 1.0;      // error degrees of freedom
  double resels0 = 1.0;  // Hadwiger characteristic (unbroken field: 1)
  double resels1 = 0.0;  // field length in resels: (Q - 1) / FWHM
  std::size_t nodes = 0;  // Q, for the Bonferroni comparison
};

// Survival functions of the t and F distributions (regularised incomplete beta).
double t_sf(double t, double df);
double f_sf(double f, double df1, double df2);

// The probability that the field's maximum exceeds u (RFT, then the less severe of it and
// Bonferroni over the nodes, never below the single-node probability).
double p_max(const RftField& field, double u);
// The threshold u with p_max(u) = alpha (bisection to double precision).
double isf(const RftField& field, double alpha);
// The probability of a cluster of `extent_resels` at least `height` high.
double p_cluster(const RftField& field, double extent_resels, double height);
// The probability of `clusters` clusters, the smallest `min_extent_resels`, at threshold u.
double p_set(const RftField& field, int clusters, double min_extent_resels, double u);

}  // namespace cadence::gait::spm
