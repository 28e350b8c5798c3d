#include "cadence/gait/spectrum.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "cadence/gait/lanes.h"

namespace cadence::gait {

namespace {

constexpr int L = SpectrumPlan::kLanes;  // the width of the public single-series helpers

void root(int n, long long k, double& re, double& im) {  // exp(-2 pi i k / n)
  const double a = -2.0 * std::numbers::pi * static_cast<double>(k % n) / n;
  re = std::cos(a);
  im = std::sin(a);
}

// Butterflies: the length-R DFT y_j = sum_k x_k W_R^{jk}, W_R = exp(-2 pi i / R), in place on R
// complex lane vectors. Radix 3 and 5 use the symmetric forms (x_k +- x_{R-k}), which need about
// half the multiplications of the textbook sum.
template <int R, class vd>
[[gnu::always_inline]] inline void butterfly(vd* re, vd* im) {
  static_assert(R == 2 || R == 3 || R == 5);
  if constexpr (R == 2) {
    const vd r0 = re[0] + re[1], i0 = im[0] + im[1];
    re[1] = re[0] - re[1];
    im[1] = im[0] - im[1];
    re[0] = r0;
    im[0] = i0;
  } else if constexpr (R == 3) {
    const double s = 0.86602540378443864676;  // sin(2 pi / 3)
    const vd tr = re[1] + re[2], ti = im[1] + im[2];
    const vd dr = re[1] - re[2], di = im[1] - im[2];
    const vd ar = re[0] - 0.5 * tr, ai = im[0] - 0.5 * ti;
    const vd br = s * dr, bi = s * di;
    re[0] = re[0] + tr;
    im[0] = im[0] + ti;
    re[1] = ar + bi;  // a - i b
    im[1] = ai - br;
    re[2] = ar - bi;  // a + i b
    im[2] = ai + br;
  } else {
    const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;  // cos(2 pi/5), cos(4 pi/5)
    const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;   // sin(2 pi/5), sin(4 pi/5)
    const vd t1r = re[1] + re[4], t1i = im[1] + im[4], t2r = re[2] + re[3], t2i = im[2] + im[3];
    const vd t3r = re[1] - re[4], t3i = im[1] - im[4], t4r = re[2] - re[3], t4i = im[2] - im[3];
    const vd a1r = re[0] + c1 * t1r + c2 * t2r, a1i = im[0] + c1 * t1i + c2 * t2i;
    const vd a2r = re[0] + c2 * t1r + c1 * t2r, a2i = im[0] + c2 * t1i + c1 * t2i;
    const vd b1r = s1 * t3r + s2 * t4r, b1i = s1 * t3i + s2 * t4i;
    const vd b2r = s2 * t3r - s1 * t4r, b2i = s2 * t3i - s1 * t4i;
    re[0] = re[0] + t1r + t2r;
    im[0] = im[0] + t1i + t2i;
    re[1] = a1r + b1i;  // a1 - i b1
    im[1] = a1i - b1r;
    re[4] = a1r - b1i;  // a1 + i b1
    im[4] = a1i + b1r;
    re[2] = a2r + b2i;  // a2 - i b2
    im[2] = a2i - b2r;
    re[3] = a2r - b2i;  // a2 + i b2
    im[3] = a2i + b2r;
  }
}

// One Stockham stage (decimation in frequency, autosort): reads x, writes y in natural order.
// Element e of a buffer is the vector pair (v[2e], v[2e+1]) = (re, im) of kLanes series.
template <int R, int W>
[[gnu::always_inline]] inline void stage(const typename lanes::Lanes<W>::vdu* x, typename lanes::Lanes<W>::vdu* y,
                                         const SpectrumPlan::Stage& st) {
  using vd = typename lanes::Lanes<W>::vd;
  const int m = st.m, s = st.stride;
  for (int p = 0; p < m; ++p) {
    const double* twr = st.tw_re.data() + p * R;
    const double* twi = st.tw_im.data() + p * R;
    for (int q = 0; q < s; ++q) {
      vd re[R], im[R];
      for (int k = 0; k < R; ++k) {
        const int e = q + s * (p + k * m);
        re[k] = x[2 * e];
        im[k] = x[2 * e + 1];
      }
      butterfly<R, vd>(re, im);
      const int e0 = q + s * R * p;
      y[2 * e0] = re[0];
      y[2 * e0 + 1] = im[0];
      for (int j = 1; j < R; ++j) {
        const int e = e0 + s * j;
        if (p == 0) {  // every twiddle of p = 0 is 1
          y[2 * e] = re[j];
          y[2 * e + 1] = im[j];
        } else {
          const vd wr = CADENCE_SPLAT(twr[j]), wi = CADENCE_SPLAT(twi[j]);
          y[2 * e] = re[j] * wr - im[j] * wi;
          y[2 * e + 1] = re[j] * wi + im[j] * wr;
        }
      }
    }
  }
}

// Any other radix (lengths other than 150 with prime factors above 5): the textbook sum.
template <int W>
void stage_generic(const double* x, double* y, const SpectrumPlan::Stage& st, const double* rr,
                   const double* ri) {
  const int r = st.radix, m = st.m, s = st.stride;
  for (int p = 0; p < m; ++p)
    for (int q = 0; q < s; ++q)
      for (int j = 0; j < r; ++j) {
        double tr[W] = {}, ti[W] = {};
        for (int k = 0; k < r; ++k) {
          const double* e = x + 2 * (q + s * (p + k * m)) * W;
          const double wr = rr[j * r + k], wi = ri[j * r + k];
          for (int l = 0; l < W; ++l) {
            tr[l] += e[l] * wr - e[W + l] * wi;
            ti[l] += e[l] * wi + e[W + l] * wr;
          }
        }
        const double cr = st.tw_re[p * r + j], ci = st.tw_im[p * r + j];
        double* e = y + 2 * (q + s * (r * p + j)) * W;
        for (int l = 0; l < W; ++l) {
          e[l] = tr[l] * cr - ti[l] * ci;
          e[W + l] = tr[l] * ci + ti[l] * cr;
        }
      }
}

template <int W>
[[gnu::always_inline]] inline const double* run_stages(const double* in, double* a, double* b,
                                                       const SpectrumPlan::Stage* stages, int count,
                                                       const std::vector<double>* roots_re,
                                                       const std::vector<double>* roots_im) {
  using vdu = typename lanes::Lanes<W>::vdu;
  const double* x = in;
  double* y = a;
  for (int i = 0; i < count; ++i) {
    const auto& st = stages[i];
    const vdu* xv = reinterpret_cast<const vdu*>(x);
    vdu* yv = reinterpret_cast<vdu*>(y);
    switch (st.radix) {
      case 2: stage<2, W>(xv, yv, st); break;
      case 3: stage<3, W>(xv, yv, st); break;
      case 5: stage<5, W>(xv, yv, st); break;
      default: stage_generic<W>(x, y, st, roots_re[st.radix].data(), roots_im[st.radix].data()); break;
    }
    x = y;
    y = (y == a) ? b : a;
  }
  return x;
}

// Unpacks the half-length transform Z of z_m = x_2m + i x_2m+1 to the real spectrum and keeps,
// per lane, the first k in 1 .. half-1 of largest |X_k|^2. Computed as 2 X_k (the halves of
// E and O dropped): scaling by 2 is exact, so powers are exactly 4 |X_k|^2 and the arg-max is
// the same.
template <int W>
[[gnu::always_inline]] inline void arg_max_power(const double* z, int half, const double* ure, const double* uim,
                                                 int* out) {
  using vd = typename lanes::Lanes<W>::vd;
  using vdu = typename lanes::Lanes<W>::vdu;
  const vdu* v = reinterpret_cast<const vdu*>(z);
  vd best = CADENCE_SPLAT(-1.0), arg = CADENCE_SPLAT(1.0);
  for (int k = 1; k < half; ++k) {
    const int c = half - k;
    const vd zr = v[2 * k], zi = v[2 * k + 1], cr = v[2 * c], ci = -v[2 * c + 1];
    const vd er = zr + cr, ei = zi + ci;  // 2E = Z_k + conj Z_{h-k}
    const vd o_r = zi - ci, o_i = cr - zr;  // 2O = (Z_k - conj Z_{h-k}) / i
    const vd wr = CADENCE_SPLAT(ure[k]), wi = CADENCE_SPLAT(uim[k]);
    const vd xr = er + (wr * o_r - wi * o_i), xi = ei + (wr * o_i + wi * o_r);
    const vd p = xr * xr + xi * xi;
    const auto better = p > best;
    best = better ? p : best;
    arg = better ? CADENCE_SPLAT(static_cast<double>(k)) : arg;
  }
  for (int l = 0; l < W; ++l) out[l] = static_cast<int>(arg[l]);
}

// The transform, unpacked to the arg-max, per width: 4 (SSE2 and AVX2 builds) and 8 (AVX-512).
CADENCE_SIMD_CLONES
void dominant4(const double* in, double* a, double* b, const SpectrumPlan::Stage* stages, int count,
               const std::vector<double>* rr, const std::vector<double>* ri, int half, const double* ure,
               const double* uim, int* out) {
  arg_max_power<4>(run_stages<4>(in, a, b, stages, count, rr, ri), half, ure, uim, out);
}

CADENCE_AVX512
void dominant8(const double* in, double* a, double* b, const SpectrumPlan::Stage* stages, int count,
               const std::vector<double>* rr, const std::vector<double>* ri, int half, const double* ure,
               const double* uim, int* out) {
  arg_max_power<8>(run_stages<8>(in, a, b, stages, count, rr, ri), half, ure, uim, out);
}

CADENCE_SIMD_CLONES
const double* transform4(const double* in, double* a, double* b, const SpectrumPlan::Stage* stages, int count,
                         const std::vector<double>* rr, const std::vector<double>* ri) {
  return run_stages<4>(in, a, b, stages, count, rr, ri);
}

}  // namespace

SpectrumPlan::SpectrumPlan(int n) : n_(n), half_(n / 2) {
  if (n < 4 || n % 2 != 0) throw std::invalid_argument("SpectrumPlan: n must be even and >= 4");
  // Factor n/2 into radices: 5 and 3 first (150 -> 75 = 5 x 5 x 3), then 2, then any prime.
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
  for (int r : factors) {
    if (r >= static_cast<int>(roots_re_.size())) {
      roots_re_.resize(r + 1);
      roots_im_.resize(r + 1);
    }
    if (roots_re_[r].empty()) {
      roots_re_[r].resize(static_cast<std::size_t>(r) * r);
      roots_im_[r].resize(static_cast<std::size_t>(r) * r);
      for (int j = 0; j < r; ++j)
        for (int k = 0; k < r; ++k)
          root(r, static_cast<long long>(j) * k, roots_re_[r][j * r + k], roots_im_[r][j * r + k]);
    }
    Stage st{r, len / r, s, {}, {}};
    st.tw_re.resize(static_cast<std::size_t>(st.m) * r);
    st.tw_im.resize(static_cast<std::size_t>(st.m) * r);
    for (int p = 0; p < st.m; ++p)
      for (int j = 0; j < r; ++j) root(len, static_cast<long long>(j) * p, st.tw_re[p * r + j], st.tw_im[p * r + j]);
    stages_.push_back(std::move(st));
    len /= r;
    s *= r;
  }
  unpack_re_.resize(half_);
  unpack_im_.resize(half_);
  for (int k = 0; k < half_; ++k) root(n_, k, unpack_re_[k], unpack_im_[k]);
}

void SpectrumPlan::prepare(Workspace& ws, int width) const {
  const std::size_t size = static_cast<std::size_t>(n_) * width;
  if (ws.a.size() != size) {
    ws.a.assign(size, 0.0);
    ws.b.assign(size, 0.0);
  }
}

void SpectrumPlan::dominant_harmonic_interleaved(const double* x, int* out, Workspace& ws, int width) const {
  prepare(ws, width);
  const int count = static_cast<int>(stages_.size());
  if (width == 8)
    dominant8(x, ws.a.data(), ws.b.data(), stages_.data(), count, roots_re_.data(), roots_im_.data(), half_,
              unpack_re_.data(), unpack_im_.data(), out);
  else
    dominant4(x, ws.a.data(), ws.b.data(), stages_.data(), count, roots_re_.data(), roots_im_.data(), half_,
              unpack_re_.data(), unpack_im_.data(), out);
}

void SpectrumPlan::dominant_harmonic(const double* x, std::int64_t stride, int lanes, int* out,
                                     Workspace& ws) const {
  // Interleave (unused lanes get zeros): point p of series l at in[p * L + l]. Packing
  // z_m = x_2m + i x_2m+1 is then this very layout read as complex elements.
  std::vector<double> in(static_cast<std::size_t>(n_) * L, 0.0);
  for (int p = 0; p < n_; ++p)
    for (int l = 0; l < lanes; ++l) in[p * L + l] = x[l * stride + p];
  int all[L];
  dominant_harmonic_interleaved(in.data(), all, ws);
  for (int l = 0; l < lanes; ++l) out[l] = all[l];
}

std::vector<double> SpectrumPlan::power(const double* x) const {
  std::vector<double> in(static_cast<std::size_t>(n_) * L, 0.0);
  for (int p = 0; p < n_; ++p) in[p * L] = x[p];
  Workspace ws;
  prepare(ws, L);
  const double* a = transform4(in.data(), ws.a.data(), ws.b.data(), stages_.data(), static_cast<int>(stages_.size()),
                               roots_re_.data(), roots_im_.data());
  auto re = [a](int e) { return a[(2 * e) * L]; };
  auto im = [a](int e) { return a[(2 * e + 1) * L]; };
  std::vector<double> out(half_);
  for (int k = 0; k < half_; ++k) {
    const int c = (half_ - k) % half_;
    const double zr = re(k), zi = im(k), cr = re(c), ci = -im(c);
    const double er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
    const double o_r = 0.5 * (zi - ci), o_i = -0.5 * (zr - cr);
    const double wr = unpack_re_[k], wi = unpack_im_[k];
    const double xr = er + wr * o_r - wi * o_i, xi = ei + wr * o_i + wi * o_r;
    out[k] = xr * xr + xi * xi;
  }
  return out;
}

}  // namespace cadence::gait
