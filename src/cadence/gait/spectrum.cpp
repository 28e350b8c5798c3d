#include "cadence/gait/spectrum.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace cadence::gait {

namespace {

constexpr int L = SpectrumPlan::kLanes;

std::complex<double> root(int n, long long k) {  // exp(-2 pi i k / n)
  const double a = -2.0 * std::numbers::pi * static_cast<double>(k % n) / n;
  return {std::cos(a), std::sin(a)};
}

// Lane-interleaved complex array: element e, lane l at re = v[(2e) * L + l], im = v[(2e+1) * L + l].
inline double* re(double* v, int e) { return v + (2 * e) * L; }
inline double* im(double* v, int e) { return v + (2 * e + 1) * L; }

}  // namespace

SpectrumPlan::SpectrumPlan(int n) : n_(n), half_(n / 2) {
  if (n < 4 || n % 2 != 0) throw std::invalid_argument("SpectrumPlan: n must be even and >= 4");
  // Factor n/2 into small radices (4 and 2 first would also do; 2, 3, 5, then any prime).
  std::vector<int> factors;
  int rest = half_;
  for (int r : {5, 3, 2})
    while (rest % r == 0) {
      factors.push_back(r);
      rest /= r;
    }
  for (int r = 7; rest > 1; r += 2)
    while (rest % r == 0) {
      factors.push_back(r);
      rest /= r;
    }
  int len = half_, s = 1;
  radix_roots_.resize(64);
  for (int r : factors) {
    if (r >= static_cast<int>(radix_roots_.size())) radix_roots_.resize(r + 1);
    if (radix_roots_[r].empty()) {
      radix_roots_[r].resize(static_cast<std::size_t>(r) * r);
      for (int j = 0; j < r; ++j)
        for (int k = 0; k < r; ++k) radix_roots_[r][j * r + k] = root(r, static_cast<long long>(j) * k);
    }
    Stage st{r, len / r, s, {}};
    st.twiddle.resize(static_cast<std::size_t>(st.m) * r);
    for (int p = 0; p < st.m; ++p)
      for (int j = 0; j < r; ++j) st.twiddle[p * r + j] = root(len, static_cast<long long>(j) * p);
    stages_.push_back(std::move(st));
    len /= r;
    s *= r;
  }
  unpack_.resize(half_);
  for (int k = 0; k < half_; ++k) unpack_[k] = root(n_, k);
}

namespace {

// One Stockham stage of radix R (a compile-time constant, so the butterfly unrolls); every
// innermost loop runs over the L lanes and vectorises.
template <int R>
void stage(const double* x, double* y, int m, int s, const std::complex<double>* roots,
           const std::complex<double>* twiddle) {
  double wr[R][R], wi[R][R];
  for (int j = 0; j < R; ++j)
    for (int k = 0; k < R; ++k) {
      wr[j][k] = roots[j * R + k].real();
      wi[j][k] = roots[j * R + k].imag();
    }
  for (int p = 0; p < m; ++p) {
    for (int q = 0; q < s; ++q) {
      double ar[R][L], ai[R][L];
      for (int k = 0; k < R; ++k) {
        const double* e = x + 2 * (q + s * (p + k * m)) * L;
        for (int l = 0; l < L; ++l) {
          ar[k][l] = e[l];
          ai[k][l] = e[L + l];
        }
      }
      for (int j = 0; j < R; ++j) {
        double tr[L], ti[L];
        for (int l = 0; l < L; ++l) {
          tr[l] = ar[0][l];
          ti[l] = ai[0][l];
        }
        for (int k = 1; k < R; ++k)
          for (int l = 0; l < L; ++l) {
            tr[l] += ar[k][l] * wr[j][k] - ai[k][l] * wi[j][k];
            ti[l] += ar[k][l] * wi[j][k] + ai[k][l] * wr[j][k];
          }
        const double cr = twiddle[p * R + j].real(), ci = twiddle[p * R + j].imag();
        double* e = y + 2 * (q + s * (R * p + j)) * L;
        for (int l = 0; l < L; ++l) {
          e[l] = tr[l] * cr - ti[l] * ci;
          e[L + l] = tr[l] * ci + ti[l] * cr;
        }
      }
    }
  }
}

void stage_generic(const double* x, double* y, int r, int m, int s, const std::complex<double>* w,
                   const std::complex<double>* twiddle) {
  for (int p = 0; p < m; ++p)
    for (int q = 0; q < s; ++q)
      for (int j = 0; j < r; ++j) {
        double tr[L] = {}, ti[L] = {};
        for (int k = 0; k < r; ++k) {
          const double* e = x + 2 * (q + s * (p + k * m)) * L;
          const double wr = w[j * r + k].real(), wi = w[j * r + k].imag();
          for (int l = 0; l < L; ++l) {
            tr[l] += e[l] * wr - e[L + l] * wi;
            ti[l] += e[l] * wi + e[L + l] * wr;
          }
        }
        const double cr = twiddle[p * r + j].real(), ci = twiddle[p * r + j].imag();
        double* e = y + 2 * (q + s * (r * p + j)) * L;
        for (int l = 0; l < L; ++l) {
          e[l] = tr[l] * cr - ti[l] * ci;
          e[L + l] = tr[l] * ci + ti[l] * cr;
        }
      }
}

}  // namespace

// Stockham autosort, decimation in frequency: each stage reads x, writes y in natural order.
void SpectrumPlan::transform(Workspace& ws) const {
  double* x = ws.a.data();
  double* y = ws.b.data();
  for (const Stage& st : stages_) {
    const auto* roots = radix_roots_[st.radix].data();
    const auto* tw = st.twiddle.data();
    switch (st.radix) {
      case 2: stage<2>(x, y, st.m, st.stride, roots, tw); break;
      case 3: stage<3>(x, y, st.m, st.stride, roots, tw); break;
      case 5: stage<5>(x, y, st.m, st.stride, roots, tw); break;
      default: stage_generic(x, y, st.radix, st.m, st.stride, roots, tw); break;
    }
    std::swap(x, y);
  }
  if (x != ws.a.data()) std::swap(ws.a, ws.b);
}

void SpectrumPlan::dominant_harmonic(const double* x, std::int64_t stride, int lanes, int* out,
                                     Workspace& ws) const {
  const std::size_t size = static_cast<std::size_t>(2 * half_) * L;
  if (ws.a.size() != size) {
    ws.a.assign(size, 0.0);
    ws.b.assign(size, 0.0);
  }
  // Pack: z_m = x_{2m} + i x_{2m+1}; unused lanes get zeros.
  double* a = ws.a.data();
  for (int e = 0; e < half_; ++e)
    for (int l = 0; l < L; ++l) {
      const bool live = l < lanes;
      re(a, e)[l] = live ? x[l * stride + 2 * e] : 0.0;
      im(a, e)[l] = live ? x[l * stride + 2 * e + 1] : 0.0;
    }
  transform(ws);
  a = ws.a.data();
  double best[L];
  int arg[L];
  for (int l = 0; l < L; ++l) {
    best[l] = -1.0;
    arg[l] = 1;
  }
  for (int k = 1; k < half_; ++k) {
    const int c = half_ - k;
    const double wr = unpack_[k].real(), wi = unpack_[k].imag();
    for (int l = 0; l < L; ++l) {
      // E = (Z_k + conj Z_{h-k}) / 2, O = (Z_k - conj Z_{h-k}) / 2i, X_k = E + W^k O.
      const double zr = re(a, k)[l], zi = im(a, k)[l], cr = re(a, c)[l], ci = -im(a, c)[l];
      const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
      const double dr = 0.5 * (zr - cr), di = 0.5 * (zi - ci);
      const double o_r = di, o_i = -dr;  // d / i
      const double xr = er + wr * o_r - wi * o_i, xi = ei + wr * o_i + wi * o_r;
      const double p = xr * xr + xi * xi;
      if (p > best[l]) {
        best[l] = p;
        arg[l] = k;
      }
    }
  }
  for (int l = 0; l < lanes; ++l) out[l] = arg[l];
}

std::vector<double> SpectrumPlan::power(const double* x) const {
  Workspace ws;
  ws.a.assign(static_cast<std::size_t>(2 * half_) * L, 0.0);
  ws.b = ws.a;
  double* a = ws.a.data();
  for (int e = 0; e < half_; ++e) {
    re(a, e)[0] = x[2 * e];
    im(a, e)[0] = x[2 * e + 1];
  }
  transform(ws);
  a = ws.a.data();
  std::vector<double> out(half_);
  for (int k = 0; k < half_; ++k) {
    const int c = (half_ - k) % half_;
    const double zr = re(a, k)[0], zi = im(a, k)[0], cr = re(a, c)[0], ci = -im(a, c)[0];
    const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
    const double o_r = 0.5 * (zi - ci), o_i = -0.5 * (zr - cr);
    const double wr = unpack_[k].real(), wi = unpack_[k].imag();
    const double xr = er + wr * o_r - wi * o_i, xi = ei + wr * o_i + wi * o_r;
    out[k] = xr * xr + xi * xi;
  }
  return out;
}

}  // namespace cadence::gait
