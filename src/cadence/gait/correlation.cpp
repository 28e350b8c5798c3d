#include "cadence/gait/correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cadence/gait/lanes.h"

namespace cadence::gait {

namespace {

constexpr int B = kCorrelationBlockRows;
constexpr std::int64_t kBlocksPerChunk = 32;  // 8192 rows per task: many tasks, small merge cost
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Running moments of a set of rows: count, per-feature mean, co-moment sums (F x F, upper
// triangle filled).
struct Moments {
  std::int64_t n = 0;
  std::vector<double> mean, com;
  explicit Moments(int f = 0) : mean(f, 0.0), com(static_cast<std::size_t>(f) * f, 0.0) {}
};

// Chan's update: `into` becomes the moments of both sets.
void merge(Moments& into, const Moments& b, int F) {
  if (b.n == 0) return;
  if (into.n == 0) {
    into = b;
    return;
  }
  const double na = static_cast<double>(into.n), nb = static_cast<double>(b.n), n = na + nb;
  const double w = na * nb / n;
  std::vector<double> d(F);
  for (int i = 0; i < F; ++i) d[i] = b.mean[i] - into.mean[i];
  for (int i = 0; i < F; ++i)
    for (int j = i; j < F; ++j) into.com[i * F + j] += b.com[i * F + j] + d[i] * d[j] * w;
  for (int i = 0; i < F; ++i) into.mean[i] += d[i] * (nb / n);
  into.n += b.n;
}

// Co-moments of one centred block X[f * B + k] (k < B, rows past the block's end are zeros),
// added to com (stride F). Tiles of TI x TJ features, 4 rows per vector: TI * TJ accumulators
// stay in registers and each loaded vector is used TJ or TI times. Every pair's sum runs in the
// same order whatever the tile (lane l holds rows k = l mod 4, lanes added (0+1)+(2+3)), so the
// AVX-512 build (4 x 4 tiles in its 32 registers) gives the same bits as the 4 x 2 ones.
template <int TI, int TJ>
[[gnu::always_inline]] inline void block_comoments_t(const double* X, int F, int Fp, double* com) {
  using vd = lanes::Lanes<4>::vd;
  using vdu = lanes::Lanes<4>::vdu;
  for (int i0 = 0; i0 < Fp; i0 += TI) {
    for (int j0 = i0 / TJ * TJ; j0 < Fp; j0 += TJ) {
      vd acc[TI][TJ] = {};
      const double* a0 = X + static_cast<std::size_t>(i0) * B;
      const double* b0 = X + static_cast<std::size_t>(j0) * B;
      for (int k = 0; k < B; k += 4) {
        vd a[TI], b[TJ];
        for (int t = 0; t < TI; ++t) a[t] = *reinterpret_cast<const vdu*>(a0 + t * B + k);
        for (int t = 0; t < TJ; ++t) b[t] = *reinterpret_cast<const vdu*>(b0 + t * B + k);
        for (int s = 0; s < TI; ++s)
          for (int t = 0; t < TJ; ++t) acc[s][t] += a[s] * b[t];
      }
      for (int s = 0; s < TI; ++s)
        for (int t = 0; t < TJ; ++t) {
          const int i = i0 + s, j = j0 + t;
          if (i < F && j < F && j >= i)
            com[i * F + j] += (acc[s][t][0] + acc[s][t][1]) + (acc[s][t][2] + acc[s][t][3]);
        }
    }
  }
}

CADENCE_SIMD_CLONES
void block_comoments4x2(const double* X, int F, int Fp, double* com) { block_comoments_t<4, 2>(X, F, Fp, com); }

CADENCE_AVX512
void block_comoments4x4(const double* X, int F, int Fp, double* com) { block_comoments_t<4, 4>(X, F, Fp, com); }

void block_comoments(const double* X, int F, int Fp, double* com) {
  if (lanes::simd_width() == 8)
    block_comoments4x4(X, F, Fp, com);
  else
    block_comoments4x2(X, F, Fp, com);
}

// The moments of rows [begin, end), block by block.
Moments chunk_moments(const std::vector<ColumnView>& cols, std::int64_t begin, std::int64_t end) {
  const int F = static_cast<int>(cols.size());
  const int Fp = (F + 3) / 4 * 4;  // whole 4 x 2 tiles: the padding rows stay zero
  std::vector<double> X(static_cast<std::size_t>(Fp) * B, 0.0);
  Moments total(F), block(F);
  for (std::int64_t r = begin; r < end; r += B) {
    const int m = static_cast<int>(std::min<std::int64_t>(B, end - r));
    for (int f = 0; f < F; ++f) {
      double* x = X.data() + static_cast<std::size_t>(f) * B;
      if (cols[f].is_float32) {
        const float* s = static_cast<const float*>(cols[f].data) + r;
        for (int k = 0; k < m; ++k) x[k] = s[k];
      } else {
        const double* s = static_cast<const double*>(cols[f].data) + r;
        std::copy(s, s + m, x);
      }
      double sum = 0.0;
      for (int k = 0; k < m; ++k) sum += x[k];
      const double mu = sum / m;
      for (int k = 0; k < m; ++k) x[k] -= mu;
      std::fill(x + m, x + B, 0.0);  // a short last block: zeros add nothing
      block.mean[f] = mu;
    }
    std::fill(block.com.begin(), block.com.end(), 0.0);
    block_comoments(X.data(), F, Fp, block.com.data());
    block.n = m;
    merge(total, block, F);
  }
  return total;
}

template <class T>
bool has_nan_t(const T* x, std::int64_t rows) {
  bool any = false;
  for (std::int64_t r = 0; r < rows; ++r) any |= std::isnan(x[r]);
  return any;
}

bool has_nan(const ColumnView& c, std::int64_t rows) {
  return c.is_float32 ? has_nan_t(static_cast<const float*>(c.data), rows)
                      : has_nan_t(static_cast<const double*>(c.data), rows);
}

// Pearson r over the rows where both columns have a value (two passes: exact, for the few
// columns that hold NaN under kOmit). Templated on the two input types: no per-value branch.
template <class A, class Bt>
double pairwise_complete_t(const A* a, const Bt* b, std::int64_t rows) {
  double sa = 0, sb = 0;
  std::int64_t n = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const double x = a[r], y = b[r];
    const bool ok = !std::isnan(x) && !std::isnan(y);
    sa += ok ? x : 0.0;
    sb += ok ? y : 0.0;
    n += ok;
  }
  if (n < 2) return kNaN;
  const double ma = sa / n, mb = sb / n;
  double cab = 0, caa = 0, cbb = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const double x = a[r], y = b[r];
    const bool ok = !std::isnan(x) && !std::isnan(y);
    const double dx = ok ? x - ma : 0.0, dy = ok ? y - mb : 0.0;
    cab += dx * dy;
    caa += dx * dx;
    cbb += dy * dy;
  }
  if (!(caa > 0) || !(cbb > 0)) return kNaN;
  return std::clamp(cab / std::sqrt(caa * cbb), -1.0, 1.0);
}

double pairwise_complete(const ColumnView& a, const ColumnView& b, std::int64_t rows) {
  auto f = [](const ColumnView& c) { return static_cast<const float*>(c.data); };
  auto d = [](const ColumnView& c) { return static_cast<const double*>(c.data); };
  if (a.is_float32) return b.is_float32 ? pairwise_complete_t(f(a), f(b), rows) : pairwise_complete_t(f(a), d(b), rows);
  return b.is_float32 ? pairwise_complete_t(d(a), f(b), rows) : pairwise_complete_t(d(a), d(b), rows);
}

}  // namespace

std::vector<double> feature_correlations(const std::vector<ColumnView>& columns, std::int64_t rows,
                                         NanPolicy policy, runtime::Job& job) {
  const int F = static_cast<int>(columns.size());
  std::vector<double> out(static_cast<std::size_t>(F) * F, kNaN);
  if (F == 0) return out;
  const std::int64_t chunk_rows = kBlocksPerChunk * B;
  const std::int64_t chunks = rows > 0 ? (rows + chunk_rows - 1) / chunk_rows : 0;
  std::vector<Moments> parts(static_cast<std::size_t>(chunks));
  std::vector<std::uint8_t> nan_col(F, 0);
  // Chunks first, then (kOmit) the NaN scan per column, on the same workers.
  job.parallel_for(static_cast<std::size_t>(chunks) + (policy == NanPolicy::kOmit ? F : 0), [&](std::size_t t) {
    if (t < parts.size()) {
      const std::int64_t b = static_cast<std::int64_t>(t) * chunk_rows;
      parts[t] = chunk_moments(columns, b, std::min(rows, b + chunk_rows));
    } else {
      const std::size_t f = t - parts.size();
      nan_col[f] = has_nan(columns[f], rows);
    }
  });
  Moments total(F);
  for (const auto& p : parts) merge(total, p, F);
  if (total.n >= 2) {
    for (int i = 0; i < F; ++i) {
      const double vi = total.com[i * F + i];
      for (int j = i; j < F; ++j) {
        const double vj = total.com[j * F + j];
        double r = kNaN;
        if (vi > 0 && vj > 0)  // false for NaN and for a constant feature
          r = i == j ? 1.0 : std::clamp(total.com[i * F + j] / std::sqrt(vi * vj), -1.0, 1.0);
        out[i * F + j] = out[j * F + i] = r;
      }
    }
  }
  if (policy == NanPolicy::kOmit) {
    std::vector<std::pair<int, int>> pairs;
    for (int i = 0; i < F; ++i)
      for (int j = i; j < F; ++j)
        if (nan_col[i] || nan_col[j]) pairs.emplace_back(i, j);
    job.parallel_for(pairs.size(), [&](std::size_t k) {
      const auto [i, j] = pairs[k];
      double r = pairwise_complete(columns[i], columns[j], rows);
      if (i == j && !std::isnan(r)) r = 1.0;
      out[i * F + j] = out[j * F + i] = r;
    });
  }
  return out;
}

}  // namespace cadence::gait
