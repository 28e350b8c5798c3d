#include "cadence/gait/spm_stats.h"

#include "cadence/gait/spm_anova1rm.h"
#include "cadence/gait/spm_reml.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace cadence::gait::spm {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
const double kFourLog2 = 4.0 * std::log(2.0);

std::vector<int> group_sizes(const Sample& s) {
  std::vector<int> n(static_cast<std::size_t>(s.n_groups), 0);
  for (std::size_t j = 0; j < s.rows; ++j) ++n[static_cast<std::size_t>(s.groups[j])];
  return n;
}

}  // namespace

void check(const Sample& s) {
  if (s.y == nullptr || s.nodes < 2) throw std::invalid_argument("a 1-D test needs curves of at least 2 nodes");
  for (std::size_t i = 0; i < s.rows * s.nodes; ++i)
    if (!std::isfinite(s.y[i]))
      throw std::invalid_argument("observation " + std::to_string(i / s.nodes) + " holds a non-finite value at node " +
                                  std::to_string(i % s.nodes));
  switch (s.design) {
    case Design::kOneSample:
      if (s.rows < 2) throw std::invalid_argument("a one-sample test needs at least 2 observations");
      break;
    case Design::kTwoSample:
    case Design::kAnova1: {
      const int want = s.design == Design::kTwoSample ? 2 : s.n_groups;
      if (s.groups == nullptr || s.n_groups < 2 || s.n_groups != want)
        throw std::invalid_argument("the design needs at least 2 groups");
      for (std::size_t j = 0; j < s.rows; ++j)
        if (s.groups[j] < 0 || s.groups[j] >= s.n_groups) throw std::invalid_argument("group index out of range");
      const auto n = group_sizes(s);
      for (std::size_t g = 0; g < n.size(); ++g) {
        if (n[g] < 1) throw std::invalid_argument("group " + std::to_string(g) + " has no observation");
        if (s.design == Design::kTwoSample && n[g] < 2)
          throw std::invalid_argument("group " + std::to_string(g) + " has fewer than 2 observations");
      }
      if (static_cast<int>(s.rows) - s.n_groups < 1)
        throw std::invalid_argument("no error degrees of freedom: add observations");
      break;
    }
    case Design::kAnova1rm:
      check_anova1rm(s);
      break;
    case Design::kRegression: {
      if (s.x == nullptr || s.rows < 3) throw std::invalid_argument("a regression needs at least 3 observations");
      double lo = s.x[0], hi = s.x[0];
      for (std::size_t j = 0; j < s.rows; ++j) {
        if (!std::isfinite(s.x[j])) throw std::invalid_argument("x holds a non-finite value");
        lo = std::min(lo, s.x[j]);
        hi = std::max(hi, s.x[j]);
      }
      if (lo == hi) throw std::invalid_argument("x is constant: a regression needs x to vary");
      break;
    }
  }
}

double estimate_fwhm(const double* r, std::size_t rows, std::size_t q) {
  std::vector<double> ssq(q, 0.0), v(q, 0.0);
  for (std::size_t j = 0; j < rows; ++j) {
    const double* e = r + j * q;
    for (std::size_t i = 0; i < q; ++i) {
      ssq[i] += e[i] * e[i];
      // numpy.gradient: one-sided at the ends, central inside
      const double d = i == 0 ? e[1] - e[0] : i == q - 1 ? e[q - 1] - e[q - 2] : (e[i + 1] - e[i - 1]) / 2.0;
      v[i] += d * d;
    }
  }
  double sum = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < q; ++i) {
    const double w = v[i] / (ssq[i] + kEps);
    if (std::isnan(w)) continue;  // zero-variance nodes
    sum += std::sqrt(w / kFourLog2);
    ++n;
  }
  return 1.0 / (sum / static_cast<double>(n));
}

Field fit(const Sample& s) {
  check(s);
  if (s.design == Design::kAnova1rm) return fit_anova1rm(s);
  const std::size_t J = s.rows, Q = s.nodes;
  Field f;
  f.z.assign(Q, 0.0);
  std::vector<double> e(J * Q);
  if (s.design == Design::kAnova1 || s.design == Design::kTwoSample) {
    const auto n = group_sizes(s);
    const std::size_t k = n.size();
    std::vector<double> mean(k * Q, 0.0), grand(Q, 0.0), sse(Q, 0.0);
    for (std::size_t j = 0; j < J; ++j) {
      const double* y = s.y + j * Q;
      double* m = mean.data() + static_cast<std::size_t>(s.groups[j]) * Q;
      for (std::size_t i = 0; i < Q; ++i) m[i] += y[i];
    }
    for (std::size_t g = 0; g < k; ++g)
      for (std::size_t i = 0; i < Q; ++i) {
        grand[i] += mean[g * Q + i];
        mean[g * Q + i] /= n[g];
      }
    for (std::size_t i = 0; i < Q; ++i) grand[i] /= static_cast<double>(J);
    for (std::size_t j = 0; j < J; ++j) {
      const double* m = mean.data() + static_cast<std::size_t>(s.groups[j]) * Q;
      for (std::size_t i = 0; i < Q; ++i) {
        e[j * Q + i] = s.y[j * Q + i] - m[i];
        sse[i] += e[j * Q + i] * e[j * Q + i];
      }
    }
    const double dfe = static_cast<double>(J - k);
    if (s.design == Design::kTwoSample) {
      f.stat = Stat::kT;
      f.df1 = 1.0;
      f.df2 = dfe;
      const double cxxc = 1.0 / n[0] + 1.0 / n[1];
      for (std::size_t i = 0; i < Q; ++i)
        f.z[i] = (mean[i] - mean[Q + i]) / (std::sqrt(sse[i] / dfe * cxxc) + kEps);
    } else {
      f.stat = Stat::kF;
      f.df1 = static_cast<double>(k - 1);
      f.df2 = dfe;
      for (std::size_t i = 0; i < Q; ++i) {
        double ssb = 0.0;
        for (std::size_t g = 0; g < k; ++g) {
          const double d = mean[g * Q + i] - grand[i];
          ssb += n[g] * d * d;
        }
        f.z[i] = (ssb / f.df1) / (sse[i] / dfe);
      }
    }
    if (!s.equal_var) {  // the statistic stays; its degrees of freedom change
      double df1 = 1.0, df2 = dfe;
      reml_df(s, e, df1, df2);
      f.df2 = df2;
      if (s.design == Design::kAnova1) f.df1 = df1;
    }
  } else if (s.design == Design::kOneSample) {
    std::vector<double> mean(Q, 0.0), sse(Q, 0.0);
    for (std::size_t j = 0; j < J; ++j)
      for (std::size_t i = 0; i < Q; ++i) mean[i] += s.y[j * Q + i];
    for (std::size_t i = 0; i < Q; ++i) mean[i] /= static_cast<double>(J);
    for (std::size_t j = 0; j < J; ++j)
      for (std::size_t i = 0; i < Q; ++i) {
        e[j * Q + i] = s.y[j * Q + i] - mean[i];
        sse[i] += e[j * Q + i] * e[j * Q + i];
      }
    f.df2 = static_cast<double>(J - 1);
    for (std::size_t i = 0; i < Q; ++i) f.z[i] = mean[i] / (std::sqrt(sse[i] / f.df2 / J) + kEps);
  } else {  // regression: y = slope * x + intercept
    double xbar = 0.0;
    for (std::size_t j = 0; j < J; ++j) xbar += s.x[j];
    xbar /= static_cast<double>(J);
    double sxx = 0.0;
    for (std::size_t j = 0; j < J; ++j) sxx += (s.x[j] - xbar) * (s.x[j] - xbar);
    std::vector<double> ybar(Q, 0.0), sxy(Q, 0.0), sse(Q, 0.0);
    for (std::size_t j = 0; j < J; ++j)
      for (std::size_t i = 0; i < Q; ++i) {
        ybar[i] += s.y[j * Q + i];
        sxy[i] += (s.x[j] - xbar) * s.y[j * Q + i];
      }
    for (std::size_t i = 0; i < Q; ++i) ybar[i] /= static_cast<double>(J);
    for (std::size_t j = 0; j < J; ++j)
      for (std::size_t i = 0; i < Q; ++i) {
        const double slope = sxy[i] / sxx;
        e[j * Q + i] = s.y[j * Q + i] - ybar[i] - slope * (s.x[j] - xbar);
        sse[i] += e[j * Q + i] * e[j * Q + i];
      }
    f.df2 = static_cast<double>(J - 2);
    for (std::size_t i = 0; i < Q; ++i) f.z[i] = (sxy[i] / sxx) / (std::sqrt(sse[i] / f.df2 / sxx) + kEps);
  }
  f.fwhm = estimate_fwhm(e.data(), J, Q);
  f.resels0 = 1.0;
  f.resels1 = static_cast<double>(Q - 1) / f.fwhm;
  return f;
}

PermutedStatistic::PermutedStatistic(const Sample& s) : s_(s) {
  const std::size_t k = s.n_groups > 0 ? static_cast<std::size_t>(s.n_groups) : 1;
  sum_.assign(k * s.nodes, 0.0);
  sq_.assign(s.nodes, 0.0);
  counts_.assign(k, 0.0);
  if (s.design == Design::kRegression) {
    for (std::size_t j = 0; j < s.rows; ++j) xbar_ += s.x[j];
    xbar_ /= static_cast<double>(s.rows);
    for (std::size_t j = 0; j < s.rows; ++j) sxx_ += (s.x[j] - xbar_) * (s.x[j] - xbar_);
  }
}

void PermutedStatistic::one_sample(const double* signs, double* out) {
  const std::size_t J = s_.rows, Q = s_.nodes;
  double* m = sum_.data();
  std::fill(m, m + Q, 0.0);
  std::fill(sq_.begin(), sq_.end(), 0.0);
  for (std::size_t j = 0; j < J; ++j) {
    const double* y = s_.y + j * Q;
    const double c = signs[j];
    for (std::size_t i = 0; i < Q; ++i) m[i] += c * y[i];
  }
  for (std::size_t i = 0; i < Q; ++i) m[i] /= static_cast<double>(J);
  for (std::size_t j = 0; j < J; ++j) {
    const double* y = s_.y + j * Q;
    const double c = signs[j];
    for (std::size_t i = 0; i < Q; ++i) {
      const double d = c * y[i] - m[i];
      sq_[i] += d * d;
    }
  }
  const double root_n = std::sqrt(static_cast<double>(J));
  for (std::size_t i = 0; i < Q; ++i) out[i] = m[i] / (std::sqrt(sq_[i] / static_cast<double>(J - 1)) / root_n);
}

void PermutedStatistic::grouped(const int* groups, double* out) {
  const std::size_t J = s_.rows, Q = s_.nodes, k = static_cast<std::size_t>(s_.n_groups);
  std::fill(sum_.begin(), sum_.end(), 0.0);
  std::fill(sq_.begin(), sq_.end(), 0.0);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  for (std::size_t j = 0; j < J; ++j) {
    const std::size_t g = static_cast<std::size_t>(groups[j]);
    counts_[g] += 1.0;
    double* m = sum_.data() + g * Q;
    const double* y = s_.y + j * Q;
    for (std::size_t i = 0; i < Q; ++i) m[i] += y[i];
  }
  for (std::size_t g = 0; g < k; ++g)
    for (std::size_t i = 0; i < Q; ++i) sum_[g * Q + i] /= counts_[g];
  for (std::size_t j = 0; j < J; ++j) {
    const double* m = sum_.data() + static_cast<std::size_t>(groups[j]) * Q;
    const double* y = s_.y + j * Q;
    for (std::size_t i = 0; i < Q; ++i) {
      const double d = y[i] - m[i];
      sq_[i] += d * d;
    }
  }
  if (s_.design == Design::kTwoSample) {
    // spm1d: sp = sqrt(((n0-1) s0^2 + (n1-1) s1^2) / df); t = (m0 - m1) / sp / sqrt(1/n0 + 1/n1)
    const double df = static_cast<double>(J) - 2.0;
    const double root = std::sqrt(1.0 / counts_[0] + 1.0 / counts_[1]);
    for (std::size_t i = 0; i < Q; ++i) out[i] = (sum_[i] - sum_[Q + i]) / std::sqrt(sq_[i] / df) / root;
    return;
  }
  const double df1 = static_cast<double>(k - 1), df2 = static_cast<double>(J - k);
  for (std::size_t i = 0; i < Q; ++i) {
    double grand = 0.0;
    for (std::size_t g = 0; g < k; ++g) grand += counts_[g] * sum_[g * Q + i];
    grand /= static_cast<double>(J);
    double ssb = 0.0;
    for (std::size_t g = 0; g < k; ++g) {
      const double d = sum_[g * Q + i] - grand;
      ssb += counts_[g] * d * d;
    }
    out[i] = (ssb / df1) / (sq_[i] / df2);
  }
}

void PermutedStatistic::regression(const int* order, double* out) {
  const std::size_t J = s_.rows, Q = s_.nodes;
  double* ybar = sum_.data();
  std::vector<double>& sxy = sq_;
  std::fill(ybar, ybar + Q, 0.0);
  std::fill(sxy.begin(), sxy.end(), 0.0);
  for (std::size_t j = 0; j < J; ++j) {
    const double* y = s_.y + static_cast<std::size_t>(order[j]) * Q;
    const double dx = s_.x[j] - xbar_;
    for (std::size_t i = 0; i < Q; ++i) {
      ybar[i] += y[i];
      sxy[i] += dx * y[i];
    }
  }
  for (std::size_t i = 0; i < Q; ++i) {
    ybar[i] /= static_cast<double>(J);
    out[i] = 0.0;  // the residual sum of squares, first
  }
  for (std::size_t j = 0; j < J; ++j) {
    const double* y = s_.y + static_cast<std::size_t>(order[j]) * Q;
    const double dx = s_.x[j] - xbar_;
    for (std::size_t i = 0; i < Q; ++i) {
      const double e = y[i] - ybar[i] - (sxy[i] / sxx_) * dx;
      out[i] += e * e;
    }
  }
  const double df = static_cast<double>(J) - 2.0;
  for (std::size_t i = 0; i < Q; ++i) out[i] = (sxy[i] / sxx_) / (std::sqrt(out[i] / df / sxx_) + kEps);
}

}  // namespace cadence::gait::spm
