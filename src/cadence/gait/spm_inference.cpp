#include "cadence/gait/spm_inference.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace cadence::gait::spm {
namespace {

// numpy.percentile(values, 100 * (1 - alpha), method='linear'), numpy's lerp included.
double percentile_linear(std::vector<double> v, double alpha) {
  std::sort(v.begin(), v.end());
  const double q = (100.0 * (1.0 - alpha)) / 100.0;
  const double index = q * static_cast<double>(v.size() - 1);
  const double lo = std::floor(index);
  const auto i0 = static_cast<std::size_t>(lo);
  const std::size_t i1 = std::min(i0 + 1, v.size() - 1);
  const double gamma = index - lo;
  const double a = v[i0], b = v[i1], diff = b - a;
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

std::vector<int> group_sizes(const Sample& s) {
  std::vector<int> n(static_cast<std::size_t>(s.n_groups), 0);
  for (std::size_t j = 0; j < s.rows; ++j) ++n[static_cast<std::size_t>(s.groups[j])];
  return n;
}

// spm1d's permutations_without_repetition: positions of group 0 as lexicographic combinations of
// all rows, then group 1's among the rows left, and so on; `emit` returns false to stop.
class GroupEnumerator {
 public:
  GroupEnumerator(std::vector<int> sizes, std::size_t rows, std::int64_t limit, std::vector<int>& out)
      : sizes_(std::move(sizes)), labels_(rows, 0), limit_(limit), out_(out) {}
  void run() {
    std::vector<int> all(labels_.size());
    std::iota(all.begin(), all.end(), 0);
    level(all, 0);
  }

 private:
  bool level(const std::vector<int>& rows, std::size_t g) {
    if (g == sizes_.size()) {
      out_.insert(out_.end(), labels_.begin(), labels_.end());
      return ++emitted_ < limit_;
    }
    const std::size_t r = static_cast<std::size_t>(sizes_[g]), n = rows.size();
    std::vector<std::size_t> c(r);
    std::iota(c.begin(), c.end(), 0);
    std::vector<int> rest;
    while (true) {
      rest.clear();
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (k < r && c[k] == i) {
          labels_[static_cast<std::size_t>(rows[i])] = static_cast<int>(g);
          ++k;
        } else {
          rest.push_back(rows[i]);
        }
      }
      if (!level(rest, g + 1)) return false;
      // next combination (itertools.combinations order)
      std::size_t i = r;
      while (i > 0 && c[i - 1] == i - 1 + n - r) --i;
      if (i == 0) return true;
      ++c[i - 1];
      for (std::size_t j = i; j < r; ++j) c[j] = c[j - 1] + 1;
    }
  }

  std::vector<int> sizes_;
  std::vector<int> labels_;
  std::int64_t limit_;
  std::int64_t emitted_ = 0;
  std::vector<int>& out_;
};

// Uniform index in [0, n) (own draw, so that the sequence is the same with every standard library).
std::size_t draw(std::mt19937_64& rng, std::size_t n) { return static_cast<std::size_t>(rng() % n); }

// Every relabelling to evaluate, one row of J codes each (signs as +1/-1 in `signs`, otherwise
// group labels or a row order in `codes`).
struct Relabellings {
  std::int64_t count = 0;
  std::vector<double> signs;
  std::vector<int> codes;
};

Relabellings relabellings(const Sample& s, double n_unique, const PermutationOptions& o) {
  const std::size_t J = s.rows;
  Relabellings r;
  if (o.iterations > 0) {
    r.count = o.iterations;
    std::mt19937_64 rng(o.seed);
    if (s.design == Design::kOneSample) {
      r.signs.resize(static_cast<std::size_t>(r.count) * J);
      for (auto& v : r.signs) v = (rng() & 1U) ? 1.0 : -1.0;
      return r;
    }
    std::vector<int> base(J);
    if (s.design == Design::kRegression) std::iota(base.begin(), base.end(), 0);
    else std::copy(s.groups, s.groups + J, base.begin());
    r.codes.reserve(static_cast<std::size_t>(r.count) * J);
    for (std::int64_t p = 0; p < r.count; ++p) {
      std::vector<int> v = base;
      for (std::size_t i = J - 1; i > 0; --i) std::swap(v[i], v[draw(rng, i + 1)]);
      r.codes.insert(r.codes.end(), v.begin(), v.end());
    }
    return r;
  }
  // Every permutation; two-tailed: those with index i < n_unique / 2 (spm1d's combinations_half).
  const double half = n_unique / 2.0;
  r.count = o.two_tailed ? static_cast<std::int64_t>(std::ceil(half)) : static_cast<std::int64_t>(n_unique);
  if (s.design == Design::kOneSample) {  // itertools.product((1, -1), repeat=J)
    r.signs.resize(static_cast<std::size_t>(r.count) * J);
    for (std::int64_t i = 0; i < r.count; ++i)
      for (std::size_t j = 0; j < J; ++j)
        r.signs[static_cast<std::size_t>(i) * J + j] = ((static_cast<std::uint64_t>(i) >> (J - 1 - j)) & 1U) ? -1.0 : 1.0;
  } else if (s.design == Design::kRegression) {  // itertools.permutations(range(J))
    std::vector<int> v(J);
    std::iota(v.begin(), v.end(), 0);
    r.codes.reserve(static_cast<std::size_t>(r.count) * J);
    for (std::int64_t i = 0; i < r.count; ++i) {
      r.codes.insert(r.codes.end(), v.begin(), v.end());
      std::next_permutation(v.begin(), v.end());
    }
  } else {
    r.codes.reserve(static_cast<std::size_t>(r.count) * J);
    GroupEnumerator(group_sizes(s), J, r.count, r.codes).run();
  }
  return r;
}

// The statistic of many relabellings of one sample, one pass over the rows each: the sums of
// squares that do not change under relabelling are computed once (on curves centred per node,
// so that subtracting the groups' part keeps its precision). The identity labelling's value
// equals the two-pass PermutedStatistic's to ~1e-13 relative; the observed z uses that one.
class OnePassStatistic {
 public:
  explicit OnePassStatistic(const Sample& s) : s_(s), J_(s.rows), Q_(s.nodes) {
    const bool centre = s.design != Design::kOneSample;  // sign flips act on the raw values
    y_.assign(s.y, s.y + J_ * Q_);
    std::vector<double> mean(Q_, 0.0);
    if (centre) {
      for (std::size_t j = 0; j < J_; ++j)
        for (std::size_t i = 0; i < Q_; ++i) mean[i] += y_[j * Q_ + i];
      for (std::size_t i = 0; i < Q_; ++i) mean[i] /= static_cast<double>(J_);
      for (std::size_t j = 0; j < J_; ++j)
        for (std::size_t i = 0; i < Q_; ++i) y_[j * Q_ + i] -= mean[i];
    }
    total_.assign(Q_, 0.0);
    squares_.assign(Q_, 0.0);
    for (std::size_t j = 0; j < J_; ++j)
      for (std::size_t i = 0; i < Q_; ++i) {
        total_[i] += y_[j * Q_ + i];
        squares_[i] += y_[j * Q_ + i] * y_[j * Q_ + i];
      }
    const std::size_t k = s.n_groups > 0 ? static_cast<std::size_t>(s.n_groups) : 1;
    sums_.assign(k * Q_, 0.0);
    counts_.assign(k, 0.0);
    if (s.design == Design::kRegression) {
      for (std::size_t j = 0; j < J_; ++j) xbar_ += s.x[j];
      xbar_ /= static_cast<double>(J_);
      for (std::size_t j = 0; j < J_; ++j) sxx_ += (s.x[j] - xbar_) * (s.x[j] - xbar_);
    }
  }

  void one_sample(const double* signs, double* out) {
    double* m = sums_.data();
    std::fill(m, m + Q_, 0.0);
    for (std::size_t j = 0; j < J_; ++j) {
      const double* y = y_.data() + j * Q_;
      const double c = signs[j];
      for (std::size_t i = 0; i < Q_; ++i) m[i] += c * y[i];
    }
    // t = mean / (sd / sqrt(n)) = (sum / n) * sqrt(n (n - 1)) / sqrt(ss): one division a node
    const double n = static_cast<double>(J_), inv_n = 1.0 / n, c = std::sqrt(n * (n - 1.0)) * inv_n;
    for (std::size_t i = 0; i < Q_; ++i) {
      const double ss = squares_[i] - m[i] * m[i] * inv_n;
      out[i] = m[i] * c / std::sqrt(ss > 0.0 ? ss : 0.0);
    }
  }

  void grouped(const int* groups, double* out) {
    const std::size_t k = counts_.size();
    std::fill(sums_.begin(), sums_.end(), 0.0);
    std::fill(counts_.begin(), counts_.end(), 0.0);
    const bool two = s_.design == Design::kTwoSample;
    for (std::size_t j = 0; j < J_; ++j) {
      const auto g = static_cast<std::size_t>(groups[j]);
      counts_[g] += 1.0;
      if (two && g == 1) continue;  // group 1's sums are the total minus group 0's
      double* m = sums_.data() + g * Q_;
      const double* y = y_.data() + j * Q_;
      for (std::size_t i = 0; i < Q_; ++i) m[i] += y[i];
    }
    const double n = static_cast<double>(J_);
    if (two) {
      const double inv0 = 1.0 / counts_[0], inv1 = 1.0 / counts_[1], df = n - 2.0;
      const double c = std::sqrt(df) / std::sqrt(inv0 + inv1);  // t = diff / sqrt(ssw / df) / root
      for (std::size_t i = 0; i < Q_; ++i) {
        const double s0 = sums_[i], s1 = total_[i] - s0;
        const double ssw = squares_[i] - s0 * s0 * inv0 - s1 * s1 * inv1;
        out[i] = (s0 * inv0 - s1 * inv1) * c / std::sqrt(ssw > 0.0 ? ssw : 0.0);
      }
      return;
    }
    const double df1 = static_cast<double>(k - 1), df2 = n - static_cast<double>(k);
    for (std::size_t i = 0; i < Q_; ++i) {
      double between = 0.0;
      for (std::size_t g = 0; g < k; ++g) between += sums_[g * Q_ + i] * sums_[g * Q_ + i] / counts_[g];
      const double ssw = std::max(squares_[i] - between, 0.0);
      const double ssb = std::max(between - total_[i] * total_[i] / n, 0.0);
      out[i] = (ssb / df1) / (ssw / df2);
    }
  }

  void regression(const int* order, double* out) {
    double* sxy = sums_.data();
    std::fill(sxy, sxy + Q_, 0.0);
    for (std::size_t j = 0; j < J_; ++j) {
      const double* y = y_.data() + static_cast<std::size_t>(order[j]) * Q_;
      const double dx = s_.x[j] - xbar_;
      for (std::size_t i = 0; i < Q_; ++i) sxy[i] += dx * y[i];
    }
    const double df = static_cast<double>(J_) - 2.0;
    constexpr double kEps = std::numeric_limits<double>::epsilon();
    for (std::size_t i = 0; i < Q_; ++i) {
      // squares_ - total^2 / J: the centred sum of squares (total is ~0 after centring)
      const double syy = squares_[i] - total_[i] * total_[i] / static_cast<double>(J_);
      const double ss = std::max(syy - sxy[i] * sxy[i] / sxx_, 0.0);
      out[i] = (sxy[i] / sxx_) / (std::sqrt(ss / df / sxx_) + kEps);
    }
  }

 private:
  const Sample& s_;
  std::size_t J_, Q_;
  std::vector<double> y_, total_, squares_, sums_, counts_;
  double xbar_ = 0.0, sxx_ = 0.0;
};

}  // namespace

std::vector<Cluster> find_clusters(const double* z, std::size_t q, double u, bool both_signs) {
  std::vector<Cluster> out;
  for (int sign : {1, -1}) {
    if (sign < 0 && !both_signs) break;
    std::size_t i = 0;
    while (i < q) {
      if (!(sign * z[i] >= u)) {
        ++i;
        continue;
      }
      std::size_t b = i;
      while (b + 1 < q && sign * z[b + 1] >= u) ++b;
      // the cluster's x and (sign * z) lists, with the threshold crossings interpolated
      std::vector<double> xs, zs;
      if (i > 0) {
        const double z0 = sign * z[i - 1], z1 = sign * z[i];
        xs.push_back(static_cast<double>(i) - (z1 - u) / (z1 - z0));
        zs.push_back(u);
      }
      for (std::size_t k = i; k <= b; ++k) {
        xs.push_back(static_cast<double>(k));
        zs.push_back(sign * z[k]);
      }
      if (b < q - 1) {
        const double z0 = sign * z[b], z1 = sign * z[b + 1];
        xs.push_back(static_cast<double>(b) + (z0 - u) / (z0 - z1));
        zs.push_back(u);
      }
      Cluster c;
      c.sign = sign;
      c.x0 = xs.front();
      c.x1 = xs.back();
      c.extent = c.x1 - c.x0;
      if (c.extent == 0.0) c.extent = 1.0;
      c.height = *std::min_element(zs.begin(), zs.end());
      if (zs.size() == 1) {
        c.metric = zs[0] - u;
      } else {  // numpy.trapezoid with unit spacing, as spm1d
        double m = 0.0;
        for (std::size_t k = 0; k + 1 < zs.size(); ++k) m += ((zs[k + 1] - u) + (zs[k] - u)) / 2.0;
        c.metric = m;
      }
      out.push_back(c);
      i = b + 1;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Cluster& a, const Cluster& b) { return a.x0 < b.x0; });
  return out;
}

double max_cluster_integral(const double* z, std::size_t q, double u) {
  double best = 0.0;
  bool any = false;
  std::size_t i = 0;
  while (i < q) {
    if (!(z[i] > u)) {
      ++i;
      continue;
    }
    std::size_t b = i;
    while (b + 1 < q && z[b + 1] > u) ++b;
    double m = 0.0;
    if (b == i) {
      m = z[i] - u;
    } else {
      for (std::size_t k = i; k < b; ++k) m += ((z[k + 1] - u) + (z[k] - u)) / 2.0;
    }
    best = any ? std::max(best, m) : std::max(0.0, m);
    any = true;
    i = b + 1;
  }
  return best;
}

Inference rft_inference(const Field& f, double alpha, bool two_tailed) {
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("alpha must be in (0, 1)");
  const bool t = f.stat == Stat::kT;
  const bool both = t && two_tailed;
  RftField rf{f.stat, f.df1, f.df2, f.resels0, f.resels1, f.z.size()};
  Inference r;
  r.zstar = isf(rf, both ? 0.5 * alpha : alpha);
  r.clusters = find_clusters(f.z.data(), f.z.size(), r.zstar, both);
  double min_extent = 0.0;
  for (std::size_t i = 0; i < r.clusters.size(); ++i) {
    auto& c = r.clusters[i];
    const double k = c.extent / f.fwhm;
    c.p = p_cluster(rf, k, c.height);
    if (both) c.p = std::min(1.0, 2.0 * c.p);
    min_extent = i == 0 ? k : std::min(min_extent, k);
  }
  r.p_set = 1.0;
  if (!r.clusters.empty()) {
    r.p_set = p_set(rf, static_cast<int>(r.clusters.size()), min_extent, r.zstar);
    if (both) r.p_set = std::min(1.0, 2.0 * r.p_set);
  }
  return r;
}

double unique_permutations(const Sample& s) {
  const auto J = static_cast<double>(s.rows);
  switch (s.design) {
    case Design::kOneSample:
      return std::pow(2.0, J);
    case Design::kRegression:
      return std::round(std::tgamma(J + 1.0));
    default: {
      // J! / prod(n_g!), as a running product of binomials (exact while it fits a double's mantissa)
      double n = 1.0;
      double left = J;
      for (int size : group_sizes(s)) {
        double c = 1.0;
        for (int k = 1; k <= size; ++k) c = c * (left - size + k) / k;
        n *= std::round(c);
        left -= size;
      }
      return n;
    }
  }
}

namespace {

void refuse_repeated_measures(const Sample& s) {
  if (s.design == Design::kAnova1rm)
    throw std::invalid_argument("a nonparametric repeated-measures ANOVA is not implemented (use the parametric one)");
}

}  // namespace

std::vector<double> permutation_statistic(const Sample& s) {
  check(s);
  refuse_repeated_measures(s);
  std::vector<double> z(s.nodes);
  PermutedStatistic stat(s);
  const std::size_t J = s.rows;
  if (s.design == Design::kOneSample) {
    std::vector<double> ones(J, 1.0);
    stat.one_sample(ones.data(), z.data());
  } else if (s.design == Design::kRegression) {
    std::vector<int> order(J);
    std::iota(order.begin(), order.end(), 0);
    stat.regression(order.data(), z.data());
  } else {
    stat.grouped(s.groups, z.data());
  }
  return z;
}

Inference permutation_inference(const Sample& s, const std::vector<double>& z, double alpha,
                                const PermutationOptions& o, runtime::Job* job) {
  check(s);
  refuse_repeated_measures(s);
  if (!(alpha > 0.0 && alpha < 1.0)) throw std::invalid_argument("alpha must be in (0, 1)");
  const bool two = o.two_tailed && (s.design != Design::kAnova1);
  Inference r;
  r.n_perm_unique = unique_permutations(s);
  PermutationOptions opts = o;
  opts.two_tailed = two;
  const Relabellings perms = relabellings(s, r.n_perm_unique, opts);
  const std::size_t P = static_cast<std::size_t>(perms.count), Q = s.nodes, J = s.rows;
  r.n_perm = perms.count;
  r.pdf0.assign(P, 0.0);
  r.pdf1.assign(P, 0.0);
  constexpr std::size_t kChunk = 256;
  const std::size_t chunks = (P + kChunk - 1) / kChunk;
  auto field = [&](OnePassStatistic& stat, std::size_t p, double* out) {
    if (s.design == Design::kOneSample) stat.one_sample(perms.signs.data() + p * J, out);
    else if (s.design == Design::kRegression) stat.regression(perms.codes.data() + p * J, out);
    else stat.grouped(perms.codes.data() + p * J, out);
  };
  auto evaluate = [&](std::size_t chunk) {
    OnePassStatistic stat(s);
    std::vector<double> out(Q);
    for (std::size_t p = chunk * kChunk; p < std::min(P, (chunk + 1) * kChunk); ++p) {
      field(stat, p, out.data());
      double m = two ? std::fabs(out[0]) : out[0];
      for (std::size_t i = 1; i < Q; ++i) m = std::max(m, two ? std::fabs(out[i]) : out[i]);
      r.pdf0[p] = m;
    }
  };
  auto run = [&](const std::function<void(std::size_t)>& fn) {
    if (job != nullptr && chunks > 1) job->parallel_for(chunks, fn);
    else
      for (std::size_t c = 0; c < chunks; ++c) fn(c);
  };
  run(evaluate);
  r.zstar = percentile_linear(r.pdf0, alpha);
  // A permutation's largest cluster above zstar is 0 unless its maximum exceeds zstar (about
  // alpha of them): only those fields are computed again, none is kept from the first pass.
  run([&](std::size_t chunk) {
    OnePassStatistic stat(s);
    std::vector<double> out(Q);
    for (std::size_t p = chunk * kChunk; p < std::min(P, (chunk + 1) * kChunk); ++p) {
      if (!(r.pdf0[p] > r.zstar)) continue;
      field(stat, p, out.data());
      r.pdf1[p] = max_cluster_integral(out.data(), Q, r.zstar);
    }
  });
  r.clusters = find_clusters(z.data(), Q, r.zstar, two);
  const double n_perm = o.iterations > 0 ? static_cast<double>(o.iterations) : r.n_perm_unique;
  for (auto& c : r.clusters) {
    std::size_t above = 0;
    for (double m : r.pdf1) above += m >= c.metric ? 1 : 0;
    double p = static_cast<double>(above) / static_cast<double>(P);
    p = std::min(alpha, std::max(p, 1.0 / n_perm));
    if (two) p = std::min(alpha, 2.0 * p);
    c.p = p;
  }
  r.p_set = std::nan("");
  return r;
}

std::vector<Comparison> compare_all(const std::vector<Sample>& samples, bool nonparametric, double alpha,
                                    const PermutationOptions& o, runtime::Job& job) {
  std::vector<Comparison> out(samples.size());
  job.parallel_for(samples.size(), [&](std::size_t i) {
    Comparison& c = out[i];
    try {
      if (nonparametric) {
        PermutationOptions oi = o;
        oi.seed = o.seed + i;
        c.z = permutation_statistic(samples[i]);
        c.inference = permutation_inference(samples[i], c.z, alpha, oi, nullptr);
      } else {
        c.field = fit(samples[i]);
        c.z = c.field.z;
        c.inference = rft_inference(c.field, alpha, o.two_tailed);
      }
    } catch (const std::invalid_argument& e) {
      c.error = e.what();
    }
  });
  return out;
}

}  // namespace cadence::gait::spm
