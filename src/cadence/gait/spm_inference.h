// Inference on a 1-D SPM: suprathreshold clusters (spm1d's geometry: endpoints interpolated to
// the threshold except at the curve's ends), their p values by random field theory or by label
// permutation (spm1d.stats.nonparam, every permutation in spm1d's order, or random ones), and
// the batch of one test per feature that LocomotionData.spm_compare runs on the job's pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cadence/gait/spm_stats.h"
#include "cadence/runtime/job.h"

namespace cadence::gait::spm {

struct Cluster {
  double x0 = 0.0, x1 = 0.0;  // endpoints in node units 0..Q-1
  double extent = 0.0;        // x1 - x0 (1 when that is 0, as spm1d)
  double height = 0.0;        // minimum of sign * z over the cluster (threshold at interpolated ends)
  int sign = 1;               // +1 above u, -1 below -u
  double metric = 0.0;        // nonparametric: the cluster's integral above the threshold
  double p = 1.0;
};

struct Inference {
  double zstar = 0.0;
  std::vector<Cluster> clusters;  // left to right
  double p_set = 1.0;             // parametric only
  // Nonparametric: the maximum statistic of each permutation (|z| when two-tailed) and the
  // largest upward cluster integral of each, in permutation order.
  std::vector<double> pdf0, pdf1;
  double n_perm_unique = 0.0;
  std::int64_t n_perm = 0;
};

// Clusters of sign * z >= u (both signs when `both_signs`), with the integral metric.
std::vector<Cluster> find_clusters(const double* z, std::size_t nodes, double u, bool both_signs);
// The largest integral of z - u over runs of z > u, node by node (0 when none): spm1d's
// MaxClusterIntegral of one permutation field.
double max_cluster_integral(const double* z, std::size_t nodes, double u);

Inference rft_inference(const Field& field, double alpha, bool two_tailed);

struct PermutationOptions {
  bool two_tailed = false;
  std::int64_t iterations = -1;  // -1: every permutation (first half when two-tailed)
  std::uint64_t seed = 0;        // random permutations (iterations > 0)
};

// The number of distinct relabellings of the design (2^J, J!/(n_0!...n_k!), J!), as a double.
double unique_permutations(const Sample& s);
// The statistic of the identity labelling (spm1d.stats.nonparam's z).
std::vector<double> permutation_statistic(const Sample& s);
// Nonparametric inference for `z` (permutation_statistic). With a job, permutations run on its
// pool; without, on the calling thread. Same numbers either way.
Inference permutation_inference(const Sample& s, const std::vector<double>& z, double alpha,
                                const PermutationOptions& options, runtime::Job* job);

struct Comparison {
  std::vector<double> z;
  Field field;           // parametric only (z, df, fwhm, resels)
  Inference inference;
  std::string error;     // a sample the test refused (check()), the others carry on
};

// One test per sample on the job's pool (parametric RFT or permutations); for random
// permutations sample i uses seed + i, so results do not depend on the number of workers.
std::vector<Comparison> compare_all(const std::vector<Sample>& samples, bool nonparametric, double alpha,
                                    const PermutationOptions& options, runtime::Job& job);

}  // namespace cadence::gait::spm
