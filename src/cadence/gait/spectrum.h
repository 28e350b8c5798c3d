// Dominant frequency of a cycle: the harmonic k in 1 .. n/2-1 whose DFT magnitude |X_k| is
// largest (the first on ties), in cycles per stride. This is the guide's
// `fftfreq(n)[argmax(|fft(x)[1:n//2]|) + 1]` times n: the guide's value in cycles per sample is
// k / n. DC is excluded, and so is the Nyquist bin, as in the guide.
//
// 150 is not a power of two, so the real series is packed into n/2 = 75 complex points and
// transformed by a mixed-radix (3 x 5 x 5) Stockham FFT, then unpacked to the real spectrum.
// kLanes series are transformed together, lane-interleaved, so every inner loop runs over
// lanes with no dependency and the compiler vectorises it.
#pragma once

#include <complex>
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

  // |X_k|^2 for k = 0 .. n/2 - 1 of one series (tests and diagnostics).
  [[nodiscard]] std::vector<double> power(const double* x) const;

 private:
  void transform(Workspace& ws) const;  // in ws.a, result in ws.a

  struct Stage {
    int radix;
    int m;       // n_stage / radix
    int stride;  // s
    std::vector<std::complex<double>> twiddle;  // [p * radix + j] = W_{n_stage}^{j p}
  };
  int n_ = 0;
  int half_ = 0;
  std::vector<Stage> stages_;
  std::vector<std::vector<std::complex<double>>> radix_roots_;  // by radix: W_r^{jk} as [j*r+k]
  std::vector<std::complex<double>> unpack_;                    // W_n^k, k < n/2
};

}  // namespace cadence::gait
