#include "cadence/gait/spm_rft.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace cadence::gait::spm {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();
const double kFourLog2 = 4.0 * std::log(2.0);
constexpr double kTwoPi = 2.0 * std::numbers::pi;

// lgamma without the global `signgam` write of std::lgamma (workers call this concurrently).
double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// Continued fraction of the incomplete beta (modified Lentz).
double beta_fraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < 1e-16) break;
  }
  return h;
}

// Regularised incomplete beta I_x(a, b).
double beta_inc(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front = std::exp(log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * std::log(x) +
                                b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

// The upper tail I_{1-x}(b, a) = 1 - I_x(a, b), computed on the side that keeps precision.
double beta_inc_upper(double a, double b, double x) { return beta_inc(b, a, 1.0 - x); }

// Euler characteristic densities (dimension 0 and 1) of the field at height z.
void ec_density(const RftField& f, double z, double& ec0, double& ec1) {
  if (f.stat == Stat::kT) {
    const double v = f.df2;
    ec0 = t_sf(z, v);
    ec1 = std::sqrt(kFourLog2) / kTwoPi * std::pow(1.0 + z * z / v, (1.0 - v) / 2.0);
    return;
  }
  if (z < 0.0) {  // spm1d: bypasses the F density's domain
    ec0 = 1.0;
    ec1 = std::numeric_limits<double>::infinity();
    return;
  }
  const double k = std::max(f.df1, 1.0), v = f.df2;
  const double a = kFourLog2 / kTwoPi;
  const double b = log_gamma(v / 2.0) + log_gamma(k / 2.0);
  ec0 = f_sf(z, k, v);
  ec1 = std::sqrt(a) * std::exp(log_gamma((v + k - 1.0) / 2.0) - b) * std::sqrt(2.0) *
        std::pow(k * z / v, 0.5 * (k - 1.0)) * std::pow(1.0 + k * z / v, -0.5 * (v + k - 2.0));
}

double stat_sf(const RftField& f, double z) { return f.stat == Stat::kT ? t_sf(z, f.df2) : f_sf(z, f.df1, f.df2); }

// P(at least c clusters, each larger than k resels, at height z): spm_P_RF in 1-D with the
// Poisson clumping heuristic. Also returns the expected number of upcrossings.
double rft_probability(const RftField& f, int c, double k, double z) {
  double ec0 = 0, ec1 = 0;
  ec_density(f, z, ec0, ec1);
  ec0 = std::max(ec0, kEps);  // spm12: EC = max(EC, eps)
  ec1 = std::max(ec1, kEps);
  const double r0 = f.resels0, r1 = f.resels1 == 0.0 ? kEps : f.resels1;
  const double ec = r0 * ec0 + r1 * ec1;       // expected upcrossings
  const double ek = ec0 * r1 / (r1 * ec1);     // expected resels per upcrossing
  double p = 1.0;
  if (k != 0.0) {
    const double beta = std::pow(std::tgamma(1.5) / ek, 2.0);
    p = std::exp(-beta * k * k);
  }
  if (p == 0.0) return 0.0;
  const double mu = (ec + kEps) * p;
  if (mu <= 0.0) return 1.0;  // spm1d's poisson_cdf returns 0 for a non-positive mean
  // 1 - Poisson CDF(c - 1; mu)
  double term = std::exp(-mu), cdf = term;
  for (int i = 1; i < c; ++i) {
    term *= mu / i;
    cdf += term;
  }
  return 1.0 - cdf;
}

}  // namespace

double t_sf(double t, double df) {
  if (std::isnan(t)) return t;
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  const double x = df / (df + t * t);
  const double tail = 0.5 * beta_inc(df / 2.0, 0.5, x);
  return t >= 0.0 ? tail : 1.0 - tail;
}

double f_sf(double f, double df1, double df2) {
  if (std::isnan(f)) return f;
  if (f <= 0.0) return 1.0;
  if (std::isinf(f)) return 0.0;
  const double x = df1 * f / (df1 * f + df2);
  return beta_inc_upper(df1 / 2.0, df2 / 2.0, x);
}

double p_max(const RftField& f, double u) {
  double p = rft_probability(f, 1, 0.0, u);
  const double single = std::min(stat_sf(f, u), 1.0);
  const double bonferroni = std::min(static_cast<double>(f.nodes) * single, 1.0);
  p = std::min(p, bonferroni);
  return std::max(p, single);
}

double isf(const RftField& f, double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("alpha must be in (0, 1)");
  double lo = 0.0, hi = 1.0;
  while (p_max(f, lo) < alpha && lo > -1e6) lo = lo == 0.0 ? -1.0 : lo * 2.0;
  while (p_max(f, hi) >= alpha && hi < 1e12) hi *= 2.0;
  for (int i = 0; i < 400 && hi - lo > 4.0 * kEps * std::max(1.0, std::fabs(hi)); ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (p_max(f, mid) >= alpha ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double p_cluster(const RftField& f, double extent_resels, double height) {
  double p = rft_probability(f, 1, extent_resels, height);
  if (extent_resels == 0.0) p = std::max(std::min(p, std::min(f.nodes * stat_sf(f, height), 1.0)),
                                         std::min(stat_sf(f, height), 1.0));
  return p;
}

double p_set(const RftField& f, int clusters, double min_extent_resels, double u) {
  double p = rft_probability(f, clusters, min_extent_resels, u);
  if (clusters == 1 && min_extent_resels == 0.0) p = p_max(f, u);
  return p;
}

}  // namespace cadence::gait::spm
