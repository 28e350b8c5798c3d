// pocketfft (what the spectrogram uses since the wheels: vendor/pocketfft) against FFTW (what it
// used before; GPL, so not in a wheel), side by side in one run: the spectrogram's transform, a
// double r2c of n_fft = 2048 on 400 frames (a 4 s window at 22.05 kHz, hop 221), and the bins'
// power. Checks the two agree to 1e-9 relative of the frame's peak power. Built when FFTW's -dev
// package is present (build/core/fft_bench); prints ms per 400 frames, best of 7 rounds.
#define POCKETFFT_NO_MULTITHREADING
#include <fftw3.h>
#include <pocketfft_hdronly.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <random>
#include <vector>

int main() {
  constexpr int n = 2048, frames = 400, bins = n / 2 + 1, rounds = 7;
  std::mt19937 rng(1);
  std::normal_distribution<double> noise;
  std::vector<double> signal(static_cast<std::size_t>(frames) * n);
  for (double& x : signal) x = noise(rng);

  std::vector<double> in(n), power_fftw(static_cast<std::size_t>(frames) * bins), power_pocket(power_fftw.size());
  fftw_complex* out = fftw_alloc_complex(bins);
  fftw_plan plan = fftw_plan_dft_r2c_1d(n, in.data(), out, FFTW_ESTIMATE);
  pocketfft::detail::pocketfft_r<double> pocket(n);

  const auto time_ms = [&](auto&& body) {
    double best = 1e30;
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  };
  const double fftw_ms = time_ms([&] {
    for (int f = 0; f < frames; ++f) {
      std::copy_n(signal.data() + static_cast<std::size_t>(f) * n, n, in.data());
      fftw_execute_dft_r2c(plan, in.data(), out);
      double* p = power_fftw.data() + static_cast<std::size_t>(f) * bins;
      for (int k = 0; k < bins; ++k) p[k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
    }
  });
  const double pocket_ms = time_ms([&] {
    for (int f = 0; f < frames; ++f) {
      std::copy_n(signal.data() + static_cast<std::size_t>(f) * n, n, in.data());
      pocket.exec(in.data(), 1.0, true);
      double* p = power_pocket.data() + static_cast<std::size_t>(f) * bins;
      p[0] = in[0] * in[0];
      for (int k = 1; k < bins - 1; ++k) p[k] = in[2 * k - 1] * in[2 * k - 1] + in[2 * k] * in[2 * k];
      p[bins - 1] = in[n - 1] * in[n - 1];
    }
  });
  // The same transforms handed to pocketfft 16 frames at a time: its multi-transform path runs
  // vlen of them together in SIMD registers.
  constexpr int block = 16;
  std::vector<std::complex<double>> spec(static_cast<std::size_t>(block) * bins);
  std::vector<double> power_batched(power_fftw.size());
  const double batched_ms = time_ms([&] {
    for (int f0 = 0; f0 < frames; f0 += block) {
      const pocketfft::shape_t shape{static_cast<std::size_t>(block), static_cast<std::size_t>(n)};
      const pocketfft::stride_t in_stride{static_cast<std::ptrdiff_t>(n * sizeof(double)), sizeof(double)};
      const pocketfft::stride_t out_stride{static_cast<std::ptrdiff_t>(bins * sizeof(std::complex<double>)),
                                           sizeof(std::complex<double>)};
      pocketfft::r2c(shape, in_stride, out_stride, 1, pocketfft::FORWARD, signal.data() + static_cast<std::size_t>(f0) * n,
                     spec.data(), 1.0, 1);
      for (int b = 0; b < block; ++b) {
        double* p = power_batched.data() + static_cast<std::size_t>(f0 + b) * bins;
        for (int k = 0; k < bins; ++k) p[k] = std::norm(spec[static_cast<std::size_t>(b) * bins + k]);
      }
    }
  });
  // Two frames in one SIMD register per value, through the persistent plan: what the
  // spectrogram does (pocketfft's vector types, vlen doubles; 2 with SSE2).
  using V = pocketfft::detail::vtype_t<double>;
  constexpr int lanes = static_cast<int>(pocketfft::detail::VLEN<double>::val);
  std::vector<V> vbuf(n);
  std::vector<double> power_lanes(power_fftw.size());
  const double lanes_ms = time_ms([&] {
    for (int f0 = 0; f0 < frames; f0 += lanes) {
      for (int j = 0; j < n; ++j)
        for (int l = 0; l < lanes; ++l) vbuf[j][l] = signal[static_cast<std::size_t>(f0 + l) * n + j];
      pocket.exec(vbuf.data(), 1.0, true);
      for (int l = 0; l < lanes; ++l) {
        double* p = power_lanes.data() + static_cast<std::size_t>(f0 + l) * bins;
        p[0] = vbuf[0][l] * vbuf[0][l];
        for (int k = 1; k < bins - 1; ++k) p[k] = vbuf[2 * k - 1][l] * vbuf[2 * k - 1][l] + vbuf[2 * k][l] * vbuf[2 * k][l];
        p[bins - 1] = vbuf[n - 1][l] * vbuf[n - 1][l];
      }
    }
  });
  bool lanes_equal = power_lanes == power_pocket;
  double worst = 0;
  for (int f = 0; f < frames; ++f) {
    const double* a = power_fftw.data() + static_cast<std::size_t>(f) * bins;
    const double* b = power_pocket.data() + static_cast<std::size_t>(f) * bins;
    const double peak = *std::max_element(a, a + bins);
    for (int k = 0; k < bins; ++k) worst = std::max(worst, std::abs(a[k] - b[k]) / peak);
  }
  fftw_destroy_plan(plan);
  fftw_free(out);
  for (int f = 0; f < frames; ++f) {
    const double* a = power_fftw.data() + static_cast<std::size_t>(f) * bins;
    const double* b = power_batched.data() + static_cast<std::size_t>(f) * bins;
    const double peak = *std::max_element(a, a + bins);
    for (int k = 0; k < bins; ++k) worst = std::max(worst, std::abs(a[k] - b[k]) / peak);
  }
  std::printf("r2c n=2048 x %d frames + power, best of %d: FFTW (ESTIMATE) %.3f ms, pocketfft %.3f ms "
              "(%.2fx FFTW), pocketfft 16 at a time %.3f ms (%.2fx FFTW), pocketfft %d lanes %.3f ms (%.2fx FFTW, "
              "%s one at a time); max |diff| / frame peak %.1e\n",
              frames, rounds, fftw_ms, pocket_ms, pocket_ms / fftw_ms, batched_ms, batched_ms / fftw_ms, lanes,
              lanes_ms, lanes_ms / fftw_ms, lanes_equal ? "bit-identical to" : "DIFFERENT from", worst);
  return worst < 1e-9 ? 0 : 1;
}
