// Dominant frequency of a cycle: the harmonic k in 1 .. n/2-1 whose DFT magnitude |X_k| is
// largest (the first on ties), in cycles per stride. This is the guide's
// `fftfreq(n)[argmax(|fft(x)[1:n//2]|) + 1]` times n: the guide's value in cycles per sample is
// k / n. DC is excluded, and so is the Nyquist bin, as in the guide.
//
// 150 is not a power of two, so the real series is packed into n/2 = 75 complex points
// (z_m = x_2m + i x_2m+1) and transformed by a mixed-radix (5 x 5 x 3) Stockham FFT with
// hand-written radix-2/3/5 butterflies (twiddles precomputed once per plan, none applied where
// they are 1), then unpacked to the real spectrum. kLanes series are transformed together,
// lane-interleaved (lanes.h), so every operation works on a whole vector; the kernels are built
// for SSE2 and AVX2 and the CPU picks one.
//
// Ties. The arg-max compares |X_k|^2 with a strict `>`, so among bins of exactly equal power the
// lowest k wins, as numpy's argmax does. Two bins equal in exact arithmetic (a symmetric series)
// may differ by rounding here and in numpy's pocketfft in opposite directions; such near-ties
// (relative gap ~1e-15) are the only place the two can disagree.
#pragma once

#include <cstdint>
#include <vector>

namespace cadence::gait {

class SpectrumPlan {
 public:
  static constexpr int kLanes = 4;

  // n: series length, even and >= 4.
  explicit SpectrumPlan(int n);
  [[nodiscard]] int n() const noexcept { return n_; }

  // Scratch memory of one worker; reuse it across calls.
  struct Workspace {
    std::vector<double> a, b;  // lane-interleaved complex scratch: [element][re/im][lane]
  };

  // x: `lanes` (<= kLanes) series of n doubles, series l at x + l * stride.
  // out[l] = dominant harmonic of series l. Finite input assumed (callers handle NaN).
  void dominant_harmonic(const double* x, std::int64_t stride, int lanes, int* out,
                         Workspace& ws) const;
  // The same for `width` series already lane-interleaved: point p of series l at
  // x[p * width + l] (the layout of the statistics kernel); width 4, or 8 where
  // lanes::simd_width() allows (see lane_stats). Every lane is transformed; a lane holding NaN or
  // inf gives a meaningless out[l] and never disturbs the others.
  void dominant_harmonic_interleaved(const double* x, int* out, Workspace& ws, int width = kLanes) const;

  // |X_k|^2 for k = 0 .. n/2 - 1 of one series (tests and diagnostics).
  [[nodiscard]] std::vector<double> power(const double* x) const;

  struct Stage {
    int radix;
    int m;       // n_stage / radix
    int stride;  // s
    std::vector<double> tw_re, tw_im;  // [p * radix + j] = W_{n_stage}^{j p}
  };

 private:
  void prepare(Workspace& ws, int width) const;  // sizes the scratch for `width` lanes

  int n_ = 0;
  int half_ = 0;
  std::vector<Stage> stages_;
  std::vector<std::vector<double>> roots_re_, roots_im_;  // by radix: W_r^{jk} as [j*r+k]
  std::vector<double> unpack_re_, unpack_im_;             // W_n^k, k < n/2
};

}  // namespace cadence::gait
