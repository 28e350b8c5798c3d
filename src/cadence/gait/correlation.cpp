#include "cadence/gait/correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

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
// added to com (stride F). Tiles of TI x TJ features, 8 rows per vector: TI * TJ accumulators
// stay in registers and each loaded vector is used TJ or TI times. Every pair's sum runs in the
// same order whatever the tile and the build (lane l holds rows k = l mod 8, lanes added
// ((0+1)+(2+3))+((4+5)+(6+7))): the AVX-512 build runs 4 x 4 tiles of 512-bit vectors in its 32
// registers, the AVX2 and SSE2 builds 2 x 2 tiles with each 8-lane vector in 256- or 128-bit
// halves, and all give the same bits. (4 rows to a vector, as before, left half of each
// AVX-512 register unused.)
template <int TI, int TJ>
[[gnu::always_inline]] inline void block_comoments_t(const double* X, int F, int Fp, double* com) {
  using vd = lanes::Lanes<8>::vd;
  using vdu = lanes::Lanes<8>::vdu;
  for (int i0 = 0; i0 < Fp; i0 += TI) {
    for (int j0 = i0 / TJ * TJ; j0 < Fp; j0 += TJ) {
      vd acc[TI * TJ] = {};  // flat: acc[s * TJ + t]
      const double* a0 = X + static_cast<std::size_t>(i0) * B;
      const double* b0 = X + static_cast<std::size_t>(j0) * B;
      for (int k = 0; k < B; k += 8) {
        vd a[TI], b[TJ];
        for (int t = 0; t < TI; ++t) a[t] = *reinterpret_cast<const vdu*>(a0 + t * B + k);
        for (int t = 0; t < TJ; ++t) b[t] = *reinterpret_cast<const vdu*>(b0 + t * B + k);
        for (int s = 0; s < TI; ++s)
          for (int t = 0; t < TJ; ++t) acc[s * TJ + t] += a[s] * b[t];
      }
      if constexpr (TI * TJ % 8 == 0) {
        // 8 accumulators at a time into one vector of their 8 sums, added in the order of the
        // scalar branch below (pairs of lanes, then pairs of pairs, then the halves): with 32
        // rows per block and tile, adding lanes one by one took as long as the products.
        for (int g = 0; g < TI * TJ; g += 8) {
          const vd* v = acc + g;
          vd p[4], q[2];
          for (int h = 0; h < 4; ++h)
            p[h] = __builtin_shufflevector(v[2 * h], v[2 * h + 1], 0, 8, 2, 10, 4, 12, 6, 14) +
                   __builtin_shufflevector(v[2 * h], v[2 * h + 1], 1, 9, 3, 11, 5, 13, 7, 15);
          for (int h = 0; h < 2; ++h)
            q[h] = __builtin_shufflevector(p[2 * h], p[2 * h + 1], 0, 1, 8, 9, 4, 5, 12, 13) +
                   __builtin_shufflevector(p[2 * h], p[2 * h + 1], 2, 3, 10, 11, 6, 7, 14, 15);
          const vd sums = __builtin_shufflevector(q[0], q[1], 0, 1, 2, 3, 8, 9, 10, 11) +
                          __builtin_shufflevector(q[0], q[1], 4, 5, 6, 7, 12, 13, 14, 15);
          for (int e = 0; e < 8; ++e) {
            const int i = i0 + (g + e) / TJ, j = j0 + (g + e) % TJ;
            if (i < F && j < F && j >= i) com[i * F + j] += sums[e];
          }
        }
      } else {
        for (int s = 0; s < TI; ++s)
          for (int t = 0; t < TJ; ++t) {
            const int i = i0 + s, j = j0 + t;
            const vd& v = acc[s * TJ + t];
            if (i < F && j < F && j >= i)
              com[i * F + j] += ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
          }
      }
    }
  }
}

CADENCE_SIMD_CLONES
void block_comoments2x2(const double* X, int F, int Fp, double* com) { block_comoments_t<2, 2>(X, F, Fp, com); }

CADENCE_AVX512
void block_comoments4x4(const double* X, int F, int Fp, double* com) { block_comoments_t<4, 4>(X, F, Fp, com); }

void block_comoments(const double* X, int F, int Fp, double* com, int width) {
  if (width == 8)
    block_comoments4x4(X, F, Fp, com);
  else
    block_comoments2x2(X, F, Fp, com);
}

// The sum of a block's B values in a fixed order: four 4-lane accumulators, then lanes and
// accumulators added pairwise. A plain loop is one serial chain of B additions (the compiler may
// not reassociate it), which cost as much as the co-moments themselves.
CADENCE_SIMD_CLONES
double block_sum(const double* x) {
  using vd = lanes::Lanes<4>::vd;
  using vdu = lanes::Lanes<4>::vdu;
  vd a0 = {}, a1 = {}, a2 = {}, a3 = {};
  for (int k = 0; k < B; k += 16) {
    a0 += *reinterpret_cast<const vdu*>(x + k);
    a1 += *reinterpret_cast<const vdu*>(x + k + 4);
    a2 += *reinterpret_cast<const vdu*>(x + k + 8);
    a3 += *reinterpret_cast<const vdu*>(x + k + 12);
  }
  const vd t = (a0 + a1) + (a2 + a3);
  return (t[0] + t[1]) + (t[2] + t[3]);
}

// Ask for rows [r, r + n) of a column now: they come from memory while the current
// block's co-moments are computed. Without this, copying each block in (a wait on memory for
// every column's 2 KiB) took half of a call on a 124 MB input.
void prefetch_rows(const ColumnView& c, std::int64_t r, std::int64_t n) {
  const std::size_t size = c.is_float32 ? sizeof(float) : sizeof(double);
  const char* p = static_cast<const char*>(c.data) + r * size;
  for (std::size_t off = 0; off < n * size; off += 64) __builtin_prefetch(p + off, 0, 3);
}

// The moments of rows [begin, end), block by block.
Moments chunk_moments(const std::vector<ColumnView>& cols, std::int64_t begin, std::int64_t end, int width) {
  const int F = static_cast<int>(cols.size());
  const int Fp = (F + 3) / 4 * 4;  // whole tiles: the padding rows stay zero
  std::vector<double> X(static_cast<std::size_t>(Fp) * B, 0.0);
  Moments total(F), block(F);
  for (std::int64_t r = begin; r < end; r += B) {
    const int m = static_cast<int>(std::min<std::int64_t>(B, end - r));
    const std::int64_t next = std::min<std::int64_t>(B, end - r - m);
    for (int f = 0; f < F; ++f) {
      prefetch_rows(cols[f], r + m, next);
      double* x = X.data() + static_cast<std::size_t>(f) * B;
      double mu;
      if (!cols[f].is_float32 && m == B) {  // summed where it lies, then centred into X: one pass less
        const double* s = static_cast<const double*>(cols[f].data) + r;
        mu = block_sum(s) / m;
        for (int k = 0; k < B; ++k) x[k] = s[k] - mu;
      } else {
        if (cols[f].is_float32) {
          const float* s32 = static_cast<const float*>(cols[f].data) + r;
          for (int k = 0; k < m; ++k) x[k] = s32[k];
        } else {
          const double* s = static_cast<const double*>(cols[f].data) + r;
          std::copy(s, s + m, x);
        }
        std::fill(x + m, x + B, 0.0);  // a short last block: zeros add nothing
        mu = block_sum(x) / m;
        for (int k = 0; k < m; ++k) x[k] -= mu;
      }
      block.mean[f] = mu;
    }
    std::fill(block.com.begin(), block.com.end(), 0.0);
    block_comoments(X.data(), F, Fp, block.com.data(), width);
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

// kOmit for the pairs that touch a column holding NaN: pairwise-complete moments of one pair
// (rows where both values are present), merged with Chan's update like the whole-matrix ones.
struct PairMoments {
  double n = 0, mi = 0, mj = 0, c = 0, qi = 0, qj = 0;  // count, means, co-moment, own moments
};

void merge_pair(PairMoments& a, const PairMoments& b) {
  if (b.n == 0) return;
  if (a.n == 0) {
    a = b;
    return;
  }
  const double n = a.n + b.n, w = a.n * b.n / n, di = b.mi - a.mi, dj = b.mj - a.mj;
  a.c += b.c + di * dj * w;
  a.qi += b.qi + di * di * w;
  a.qj += b.qj + dj * dj * w;
  a.mi += di * (b.n / n);
  a.mj += dj * (b.n / n);
  a.n = n;
}

// Rows [begin, end) for every pair, block by block. Per block each column is shifted by the
// mean of its present values (so the sums below do not cancel), missing values become 0 with a
// 0/1 presence mask, and one sweep per pair gives the six masked sums of its block moments.
CADENCE_SIMD_CLONES
void chunk_pairs(const std::vector<ColumnView>& cols, std::int64_t begin, std::int64_t end,
                 const std::vector<std::pair<int, int>>& pairs, PairMoments* out) {
  using vd = lanes::Lanes<4>::vd;
  using vdu = lanes::Lanes<4>::vdu;
  const int F = static_cast<int>(cols.size());
  std::vector<double> X(static_cast<std::size_t>(F) * B), Q(X.size()), M(X.size()), shift(F);
  for (std::int64_t r = begin; r < end; r += B) {
    const int m = static_cast<int>(std::min<std::int64_t>(B, end - r));
    for (int f = 0; f < F; ++f) {
      double* x = X.data() + static_cast<std::size_t>(f) * B;
      double* q = Q.data() + static_cast<std::size_t>(f) * B;
      double* k = M.data() + static_cast<std::size_t>(f) * B;
      for (int i = 0; i < m; ++i)
        x[i] = cols[f].is_float32 ? static_cast<const float*>(cols[f].data)[r + i]
                                  : static_cast<const double*>(cols[f].data)[r + i];
      for (int i = 0; i < m; ++i) {  // branch-free: present values, and the 0/1 mask
        const bool ok = !std::isnan(x[i]);
        k[i] = ok;
        x[i] = ok ? x[i] : 0.0;
      }
      std::fill(x + m, x + B, 0.0);
      std::fill(k + m, k + B, 0.0);
      const double cnt = block_sum(k);
      const double c = cnt > 0 ? block_sum(x) / cnt : 0.0;
      for (int i = 0; i < B; ++i) {
        x[i] = k[i] != 0 ? x[i] - c : 0.0;
        q[i] = x[i] * x[i];
      }
      shift[f] = c;
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const auto [i, j] = pairs[p];
      const double *xi = X.data() + static_cast<std::size_t>(i) * B, *xj = X.data() + static_cast<std::size_t>(j) * B;
      const double *qi = Q.data() + static_cast<std::size_t>(i) * B, *qj = Q.data() + static_cast<std::size_t>(j) * B;
      const double *ki = M.data() + static_cast<std::size_t>(i) * B, *kj = M.data() + static_cast<std::size_t>(j) * B;
      vd n = {}, si = {}, sj = {}, sij = {}, sii = {}, sjj = {};
      for (int k = 0; k < B; k += 4) {
        const vd a = *reinterpret_cast<const vdu*>(xi + k), b = *reinterpret_cast<const vdu*>(xj + k);
        const vd ma = *reinterpret_cast<const vdu*>(ki + k), mb = *reinterpret_cast<const vdu*>(kj + k);
        n += ma * mb;
        si += a * mb;
        sj += b * ma;
        sij += a * b;
        sii += *reinterpret_cast<const vdu*>(qi + k) * mb;
        sjj += *reinterpret_cast<const vdu*>(qj + k) * ma;
      }
      auto sum4 = [](const vd& v) { return (v[0] + v[1]) + (v[2] + v[3]); };
      PairMoments blk;
      blk.n = sum4(n);
      if (blk.n == 0) continue;
      const double Si = sum4(si), Sj = sum4(sj);
      blk.mi = shift[i] + Si / blk.n;
      blk.mj = shift[j] + Sj / blk.n;
      blk.c = sum4(sij) - Si * Sj / blk.n;
      blk.qi = sum4(sii) - Si * Si / blk.n;
      blk.qj = sum4(sjj) - Sj * Sj / blk.n;
      merge_pair(out[p], blk);
    }
  }
}

}  // namespace

std::vector<double> feature_correlations(const std::vector<ColumnView>& columns, std::int64_t rows,
                                         NanPolicy policy, runtime::Job& job, int simd_width) {
  return feature_correlations(std::vector<std::vector<ColumnView>>{columns}, {rows}, policy, job, simd_width);
}

std::vector<double> feature_correlations(const std::vector<std::vector<ColumnView>>& parts,
                                         const std::vector<std::int64_t>& part_rows, NanPolicy policy,
                                         runtime::Job& job, int simd_width) {
  const int width = simd_width ? simd_width : lanes::simd_width();
  if (parts.size() != part_rows.size()) throw std::invalid_argument("feature_correlations: one row count per part");
  const int F = parts.empty() ? 0 : static_cast<int>(parts[0].size());
  for (const auto& p : parts)
    if (static_cast<int>(p.size()) != F) throw std::invalid_argument("feature_correlations: parts differ in columns");
  std::vector<double> out(static_cast<std::size_t>(F) * F, kNaN);
  if (F == 0) return out;
  // Tasks: chunks of each part in order, so the merge order (and the bits) depend only on the
  // parts, never on the number of threads.
  struct Task {
    std::size_t part;
    std::int64_t begin, end;
  };
  std::vector<Task> tasks;
  const std::int64_t chunk_rows = kBlocksPerChunk * B;
  for (std::size_t p = 0; p < parts.size(); ++p)
    for (std::int64_t b = 0; b < part_rows[p]; b += chunk_rows) tasks.push_back({p, b, std::min(part_rows[p], b + chunk_rows)});
  std::vector<Moments> moments(tasks.size());
  const std::size_t scans = policy == NanPolicy::kOmit ? static_cast<std::size_t>(F) * parts.size() : 0;
  std::vector<std::uint8_t> nan_in(scans, 0);
  // Chunks first, then (kOmit) the NaN scan per column and part, on the same workers.
  job.parallel_for(tasks.size() + scans, [&](std::size_t t) {
    if (t < tasks.size()) {
      moments[t] = chunk_moments(parts[tasks[t].part], tasks[t].begin, tasks[t].end, width);
    } else {
      const std::size_t k = t - tasks.size(), p = k / F, f = k % F;
      nan_in[k] = has_nan(parts[p][f], part_rows[p]);
    }
  });
  Moments total(F);
  for (const auto& m : moments) merge(total, m, F);
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
    std::vector<std::uint8_t> nan_col(F, 0);
    for (std::size_t k = 0; k < scans; ++k) nan_col[k % F] |= nan_in[k];
    std::vector<std::pair<int, int>> pairs;
    for (int i = 0; i < F; ++i)
      for (int j = i; j < F; ++j)
        if (nan_col[i] || nan_col[j]) pairs.emplace_back(i, j);
    if (!pairs.empty()) {
      std::vector<PairMoments> acc(tasks.size() * pairs.size());
      job.parallel_for(tasks.size(), [&](std::size_t t) {
        chunk_pairs(parts[tasks[t].part], tasks[t].begin, tasks[t].end, pairs, acc.data() + t * pairs.size());
      });
      for (std::size_t p = 0; p < pairs.size(); ++p) {
        PairMoments m;
        for (std::size_t t = 0; t < tasks.size(); ++t) merge_pair(m, acc[t * pairs.size() + p]);  // task order
        const auto [i, j] = pairs[p];
        double r = kNaN;
        if (m.n >= 2 && m.qi > 0 && m.qj > 0) r = i == j ? 1.0 : std::clamp(m.c / std::sqrt(m.qi * m.qj), -1.0, 1.0);
        out[i * F + j] = out[j * F + i] = r;
      }
    }
  }
  return out;
}

}  // namespace cadence::gait
