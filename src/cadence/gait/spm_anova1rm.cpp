#include "cadence/gait/spm_anova1rm.h"

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadence::gait::spm {
namespace {

// Curves per (subject, condition) cell, subject-major.
std::vector<int> cell_counts(const Sample& s) {
  std::vector<int> n(static_cast<std::size_t>(s.n_subjects) * static_cast<std::size_t>(s.n_groups), 0);
  for (std::size_t j = 0; j < s.rows; ++j)
    ++n[static_cast<std::size_t>(s.subjects[j]) * static_cast<std::size_t>(s.n_groups) +
        static_cast<std::size_t>(s.groups[j])];
  return n;
}

// spm1d's "approximate residuals" (LinearModel.fit(approx_residuals=C[:3])): Y regressed on the
// three columns X C' of the terms Intercept, A and S, each term's treatment-coded columns summed:
// 1, [condition is not the first], [subject is not the first]. Least squares through the 3 x 3
// normal equations, one solve for every node (spm1d: the pseudo-inverse; equal to ~1e-13).
std::vector<double> approximate_residuals(const Sample& s) {
  const std::size_t J = s.rows, Q = s.nodes;
  auto row = [&](std::size_t j) {
    return std::array<double, 3>{1.0, s.groups[j] != 0 ? 1.0 : 0.0, s.subjects[j] != 0 ? 1.0 : 0.0};
  };
  double g[3][3] = {};
  std::vector<double> b(3 * Q, 0.0);  // A' Y
  for (std::size_t j = 0; j < J; ++j) {
    const auto a = row(j);
    for (int u = 0; u < 3; ++u) {
      for (int v = 0; v < 3; ++v) g[u][v] += a[u] * a[v];
      if (a[u] != 0.0)
        for (std::size_t i = 0; i < Q; ++i) b[u * Q + i] += s.y[j * Q + i];
    }
  }
  // the inverse of the (symmetric, positive definite in a balanced design) Gram matrix by cofactors
  const double c00 = g[1][1] * g[2][2] - g[1][2] * g[2][1], c01 = g[0][2] * g[2][1] - g[0][1] * g[2][2],
               c02 = g[0][1] * g[1][2] - g[0][2] * g[1][1], c11 = g[0][0] * g[2][2] - g[0][2] * g[2][0],
               c12 = g[0][2] * g[1][0] - g[0][0] * g[1][2], c22 = g[0][0] * g[1][1] - g[0][1] * g[1][0];
  const double det = g[0][0] * c00 + g[0][1] * (g[1][2] * g[2][0] - g[1][0] * g[2][2]) + g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
  const double inv[3][3] = {{c00 / det, c01 / det, c02 / det}, {c01 / det, c11 / det, c12 / det}, {c02 / det, c12 / det, c22 / det}};
  std::vector<double> beta(3 * Q, 0.0);
  for (int u = 0; u < 3; ++u)
    for (int v = 0; v < 3; ++v)
      for (std::size_t i = 0; i < Q; ++i) beta[u * Q + i] += inv[u][v] * b[v * Q + i];
  std::vector<double> e(J * Q);
  for (std::size_t j = 0; j < J; ++j) {
    const auto a = row(j);
    for (std::size_t i = 0; i < Q; ++i)
      e[j * Q + i] = s.y[j * Q + i] - (a[0] * beta[i] + a[1] * beta[Q + i] + a[2] * beta[2 * Q + i]);
  }
  return e;
}

}  // namespace

void check_anova1rm(const Sample& s) {
  if (s.groups == nullptr || s.n_groups < 2) throw std::invalid_argument("a repeated-measures ANOVA needs at least 2 conditions");
  if (s.subjects == nullptr || s.n_subjects < 2)
    throw std::invalid_argument("a repeated-measures ANOVA needs at least 2 subjects");
  for (std::size_t j = 0; j < s.rows; ++j) {
    if (s.groups[j] < 0 || s.groups[j] >= s.n_groups) throw std::invalid_argument("condition index out of range");
    if (s.subjects[j] < 0 || s.subjects[j] >= s.n_subjects) throw std::invalid_argument("subject index out of range");
  }
  const auto n = cell_counts(s);
  const auto k = static_cast<std::size_t>(s.n_groups);
  for (std::size_t c = 0; c < n.size(); ++c)
    if (n[c] != n[0] || n[c] == 0)
      throw std::invalid_argument("the design must be balanced: subject " + std::to_string(c / k) + " has " +
                                  std::to_string(n[c]) + " observation(s) of condition " + std::to_string(c % k) +
                                  ", subject 0 has " + std::to_string(n[0]) + " of condition 0");
}

bool single_responses(const Sample& s) {
  return s.rows == static_cast<std::size_t>(s.n_subjects) * static_cast<std::size_t>(s.n_groups);
}

Field fit_anova1rm(const Sample& s) {
  check_anova1rm(s);
  const std::size_t J = s.rows, Q = s.nodes, k = static_cast<std::size_t>(s.n_groups);
  const std::size_t n = static_cast<std::size_t>(s.n_subjects);
  const double r = static_cast<double>(J) / static_cast<double>(n * k);  // curves per cell
  std::vector<double> cell(n * k * Q, 0.0), subj(n * Q, 0.0), cond(k * Q, 0.0), grand(Q, 0.0);
  for (std::size_t j = 0; j < J; ++j) {
    const auto sj = static_cast<std::size_t>(s.subjects[j]), aj = static_cast<std::size_t>(s.groups[j]);
    const double* y = s.y + j * Q;
    double* c = cell.data() + (sj * k + aj) * Q;
    for (std::size_t i = 0; i < Q; ++i) c[i] += y[i];
  }
  for (std::size_t sj = 0; sj < n; ++sj)
    for (std::size_t aj = 0; aj < k; ++aj) {
      double* c = cell.data() + (sj * k + aj) * Q;
      for (std::size_t i = 0; i < Q; ++i) {
        c[i] /= r;
        subj[sj * Q + i] += c[i] / static_cast<double>(k);
        cond[aj * Q + i] += c[i] / static_cast<double>(n);
        grand[i] += c[i] / static_cast<double>(n * k);
      }
    }
  Field f;
  f.stat = Stat::kF;
  f.df1 = static_cast<double>(k - 1);
  f.df2 = static_cast<double>((k - 1) * (n - 1));
  f.z.assign(Q, 0.0);
  for (std::size_t i = 0; i < Q; ++i) {
    double ssa = 0.0, sssa = 0.0;
    for (std::size_t aj = 0; aj < k; ++aj) {
      const double d = cond[aj * Q + i] - grand[i];
      ssa += d * d;
      for (std::size_t sj = 0; sj < n; ++sj) {
        const double e = cell[(sj * k + aj) * Q + i] - subj[sj * Q + i] - cond[aj * Q + i] + grand[i];
        sssa += e * e;
      }
    }
    f.z[i] = (static_cast<double>(n) * r * ssa / f.df1) / (r * sssa / f.df2);
  }
  const bool single = single_responses(s);
  std::vector<double> e = single ? approximate_residuals(s) : std::vector<double>(J * Q);
  if (!single)
    for (std::size_t j = 0; j < J; ++j) {
      const auto c = static_cast<std::size_t>(s.subjects[j]) * k + static_cast<std::size_t>(s.groups[j]);
      for (std::size_t i = 0; i < Q; ++i) e[j * Q + i] = s.y[j * Q + i] - cell[c * Q + i];
    }
  f.fwhm = estimate_fwhm(e.data(), J, Q);
  f.resels0 = 1.0;
  f.resels1 = static_cast<double>(Q - 1) / f.fwhm;
  return f;
}

}  // namespace cadence::gait::spm
