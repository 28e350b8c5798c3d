#include "cadence/gait/spm_reml.h"

#include <algorithm>
#include <cmath>

namespace cadence::gait::spm {

// spm1d's reml(YY, X, Q) with Q = one diagonal indicator matrix per group and X spanning the
// group indicators. There, C = sum_g h_g Q_g and iC = inv(C) + I/e^32 are diagonal, so
// P = iC - iC X0 inv(X0' iC X0) X0' iC is block-diagonal by group, d_g (I - 11'/m_g) with
// d_g = 1/h_g + 1/e^32, and every trace spm1d forms reduces to one number per group:
//   trace(P Q_g U) = d_g (m_g - 1) - d_g^2 T_g,  trace(P Q_g P Q_g) = d_g^2 (m_g - 1)
// (U = I - P YY, T_g the trace of YY's block of group g once centred). Same Fisher scoring
// steps, same prior hP = I/e^32, same step divisor log(k + 3), same stop (dF < 0.1, at most 128).
void reml_df(const Sample& s, const std::vector<double>& e, double& df1, double& df2) {
  const std::size_t n = s.rows, q = s.nodes, k = static_cast<std::size_t>(s.n_groups);
  std::vector<double> m(k, 0.0);
  for (std::size_t j = 0; j < n; ++j) m[static_cast<std::size_t>(s.groups[j])] += 1.0;
  // YY = Ym Ym' / Q with Ym = Y diag(sqrt(trRV / ResSS)): its centred block traces are
  // T_g = (1/Q) sum_q (trRV / ResSS_q) SS_gq, SS_gq the group's sum of squared residuals.
  const double tr_rv0 = static_cast<double>(n - k);
  std::vector<double> res_ss(q, 0.0), ss(k * q, 0.0);
  for (std::size_t j = 0; j < n; ++j) {
    const auto g = static_cast<std::size_t>(s.groups[j]);
    for (std::size_t i = 0; i < q; ++i) {
      const double v = e[j * q + i] * e[j * q + i];
      res_ss[i] += v;
      ss[g * q + i] += v;
    }
  }
  std::vector<double> t(k, 0.0);
  for (std::size_t g = 0; g < k; ++g) {
    for (std::size_t i = 0; i < q; ++i) t[g] += (tr_rv0 / res_ss[i]) * ss[g * q + i];
    t[g] /= static_cast<double>(q);
  }
  const double prior = 1.0 / std::exp(32.0);
  std::vector<double> h(k, 1.0), dfdh(k), dh(k);
  for (int it = 0; it < 128; ++it) {
    double df = 0.0;
    for (std::size_t g = 0; g < k; ++g) {
      const double d = 1.0 / h[g] + prior;
      dfdh[g] = -0.5 * (d * (m[g] - 1.0) - d * d * t[g]) - prior * h[g];
      const double dfdhh = -0.5 * d * d * (m[g] - 1.0) - prior;
      dh[g] = -(dfdh[g] / dfdhh) / std::log(static_cast<double>(it) + 3.0);
    }
    for (std::size_t g = 0; g < k; ++g) {
      h[g] += dh[g];
      df += dfdh[g] * dh[g];
    }
    if (df < 0.1) break;
  }
  // V = sum_g h_g Q_g scaled to trace n; traceRV and traceMV of spm1d with X's column space
  // spanned by the normalised group indicators.
  double trace = 0.0;
  for (std::size_t g = 0; g < k; ++g) trace += m[g] * h[g];
  double tr_rv = 0.0, tr_rvrv = 0.0, tr_mv = 0.0, tr_mvmv = 0.0;
  for (std::size_t g = 0; g < k; ++g) {
    const double v = h[g] * (static_cast<double>(n) / trace);
    tr_rv += (m[g] - 1.0) * v;
    tr_rvrv += (m[g] - 1.0) * v * v;
    tr_mv += v;
    tr_mvmv += v * v;
  }
  df2 = tr_rv * tr_rv / tr_rvrv;
  df1 = std::max(tr_mv * tr_mv / tr_mvmv, 1.0);
}

}  // namespace cadence::gait::spm
