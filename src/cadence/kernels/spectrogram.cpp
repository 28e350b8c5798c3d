#include "cadence/kernels/spectrogram.h"

#define POCKETFFT_NO_MULTITHREADING
#include <pocketfft_hdronly.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace cadence::kernels {

namespace {

// Double precision throughout (FFT, power, band sums), float32 out: a float32 FFT's rounding is
// relative to the frame's loudest bin, so quiet bands of a loud frame would be off by more than
// 1e-4 of their own value; in double they match librosa and madmom to their float32 rounding.
// The FFT is pocketfft's (numpy's and scipy's, BSD; vendor/pocketfft): a plan is immutable once
// made and its exec is const, so one plan serves every thread, and the same bits run after run.

// librosa.hz_to_mel / mel_to_hz (Slaney's scale unless htk).
double hz_to_mel(double hz, bool htk) {
  if (htk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return hz >= min_log_hz ? min_log_mel + std::log(hz / min_log_hz) / logstep : hz / f_sp;
}

// Several frames' samples side by side, one per SIMD lane (pocketfft's vector type: 2 doubles
// with SSE2, the x86-64 baseline every build targets), or one frame where there is no vector type.
#ifndef POCKETFFT_NO_VECTORS
using FftLanes = pocketfft::detail::vtype_t<double>;
constexpr int kLanes = static_cast<int>(pocketfft::detail::VLEN<double>::val);
inline double& lane(FftLanes& v, int l) { return reinterpret_cast<double*>(&v)[l]; }
#else
using FftLanes = double;
constexpr int kLanes = 1;
inline double& lane(FftLanes& v, int) { return v; }
#endif

double mel_to_hz(double mel, bool htk) {
  if (htk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  constexpr double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return mel >= min_log_mel ? min_log_hz * std::exp(logstep * (mel - min_log_mel)) : f_sp * mel;
}

}  // namespace

std::vector<float> Filterbank::dense() const {
  std::vector<float> out(static_cast<std::size_t>(n_bands()) * static_cast<std::size_t>(n_bins), 0.0f);
  for (int b = 0; b < n_bands(); ++b)
    for (std::size_t j = offset[b]; j < offset[b + 1]; ++j)
      out[static_cast<std::size_t>(b) * n_bins + first_bin[b] + (j - offset[b])] = weights[j];
  return out;
}

Filterbank Filterbank::from_dense(const std::vector<double>& dense, int n_bands, int n_bins, std::vector<double> band_hz) {
  Filterbank f;
  f.n_bins = n_bins;
  f.offset.push_back(0);
  for (int b = 0; b < n_bands; ++b) {
    const double* row = dense.data() + static_cast<std::size_t>(b) * n_bins;
    int lo = 0, hi = n_bins;
    while (lo < hi && row[lo] == 0.0) ++lo;
    while (hi > lo && row[hi - 1] == 0.0) --hi;
    f.first_bin.push_back(lo);
    for (int k = lo; k < hi; ++k) f.weights.push_back(static_cast<float>(row[k]));
    f.offset.push_back(f.weights.size());
  }
  f.band_hz = std::move(band_hz);
  return f;
}

Filterbank mel_filterbank(int sr, int n_fft, const MelOptions& o) {
  if (sr <= 0 || n_fft < 2) throw std::invalid_argument("mel filterbank: sample rate and n_fft must be positive");
  if (o.n_mels < 1) throw std::invalid_argument("mel filterbank: n_mels must be >= 1");
  const double fmax = o.fmax_hz > 0 ? o.fmax_hz : sr / 2.0;
  if (o.fmin_hz < 0 || o.fmin_hz >= fmax)
    throw std::invalid_argument("mel filterbank: need 0 <= fmin < fmax (got fmin " + std::to_string(o.fmin_hz) +
                                ", fmax " + std::to_string(fmax) + ")");
  if (o.norm != "slaney" && o.norm != "none" && o.norm != "p")
    throw std::invalid_argument("mel filterbank: norm must be 'slaney', None or a number, not '" + o.norm + "'");
  const int n_bins = n_fft / 2 + 1;
  const int m = o.n_mels;
  // librosa.mel_frequencies(n_mels + 2, fmin, fmax, htk): equally spaced on the mel scale.
  std::vector<double> mel_f(m + 2);
  const double lo = hz_to_mel(o.fmin_hz, o.htk), hi = hz_to_mel(fmax, o.htk);
  for (int i = 0; i < m + 2; ++i) {
    // np.linspace: start + i * step, the last point exactly `hi`.
    const double mel = i == m + 1 ? hi : lo + i * ((hi - lo) / (m + 1));
    mel_f[i] = mel_to_hz(mel, o.htk);
  }
  std::vector<double> dense(static_cast<std::size_t>(m) * n_bins, 0.0);
  for (int i = 0; i < m; ++i) {
    const double fdiff_lo = mel_f[i + 1] - mel_f[i], fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
    const double enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
    double p_sum = 0.0;
    for (int k = 0; k < n_bins; ++k) {
      const double f = static_cast<double>(k) * sr / n_fft;  // np.fft.rfftfreq
      const double lower = -(mel_f[i] - f) / fdiff_lo, upper = (mel_f[i + 2] - f) / fdiff_hi;
      // librosa stores each row in float32 first, then scales it by enorm (float32 again).
      double w = static_cast<float>(std::max(0.0, std::min(lower, upper)));
      if (o.norm == "slaney") w = static_cast<float>(w * enorm);
      dense[static_cast<std::size_t>(i) * n_bins + k] = w;
      p_sum += std::isinf(o.norm_p) ? 0.0 : std::pow(std::abs(w), o.norm_p);
    }
    if (o.norm == "p") {  // librosa.util.normalize(norm=p, axis=-1): rows with no weight stay zero
      double length = 0.0;
      if (std::isinf(o.norm_p)) {
        for (int k = 0; k < n_bins; ++k) length = std::max(length, std::abs(dense[static_cast<std::size_t>(i) * n_bins + k]));
      } else {
        length = std::pow(p_sum, 1.0 / o.norm_p);
      }
      if (length > 0)
        for (int k = 0; k < n_bins; ++k) {
          double& w = dense[static_cast<std::size_t>(i) * n_bins + k];
          w = static_cast<float>(w / length);
        }
    }
  }
  return Filterbank::from_dense(dense, m, n_bins, std::vector<double>(mel_f.begin() + 1, mel_f.end() - 1));
}

Filterbank log_filterbank(int sr, int frame_size, const LogFilterOptions& o) {
  if (sr <= 0 || frame_size < 4) throw std::invalid_argument("log filterbank: sample rate and frame size must be positive");
  if (o.bands_per_octave < 1) throw std::invalid_argument("log filterbank: bands_per_octave must be >= 1");
  if (o.fmin_hz <= 0 || o.fmin_hz >= o.fmax_hz || o.fref_hz <= 0)
    throw std::invalid_argument("log filterbank: need 0 < fmin < fmax and fref > 0");
  const int n_bins = frame_size / 2;  // madmom's fft_frequencies leave the Nyquist bin out
  std::vector<double> bin_hz(n_bins);
  for (int k = 0; k < n_bins; ++k) bin_hz[k] = static_cast<double>(k) * sr / (2.0 * n_bins);
  // madmom.audio.filters.log_frequencies
  const double bpo = o.bands_per_octave;
  const double left = std::floor(std::log2(o.fmin_hz / o.fref_hz) * bpo);
  const double right = std::ceil(std::log2(o.fmax_hz / o.fref_hz) * bpo);
  std::vector<double> freqs;
  for (double e = left; e < right; e += 1.0) freqs.push_back(o.fref_hz * std::pow(2.0, e / bpo));
  freqs.erase(freqs.begin(), std::lower_bound(freqs.begin(), freqs.end(), o.fmin_hz));
  freqs.erase(std::upper_bound(freqs.begin(), freqs.end(), o.fmax_hz), freqs.end());
  // frequencies2bins: the nearest bin (ties to the upper one), optionally unique.
  std::vector<int> bins;
  for (double f : freqs) {
    auto idx = static_cast<int>(std::lower_bound(bin_hz.begin(), bin_hz.end(), f) - bin_hz.begin());
    idx = std::clamp(idx, 1, n_bins - 1);
    if (f - bin_hz[idx - 1] < bin_hz[idx] - f) --idx;
    bins.push_back(idx);
  }
  if (o.unique_filters) {
    std::sort(bins.begin(), bins.end());
    bins.erase(std::unique(bins.begin(), bins.end()), bins.end());
  }
  if (bins.size() < 3)
    throw std::invalid_argument("log filterbank: fewer than 3 distinct bins between fmin and fmax; widen the range or "
                                "use a larger frame");
  const int n_bands = static_cast<int>(bins.size()) - 2;
  std::vector<double> dense(static_cast<std::size_t>(n_bands) * n_bins, 0.0), band_hz(n_bands);
  for (int b = 0; b < n_bands; ++b) {
    int start = bins[b], center = bins[b + 1], stop = bins[b + 2];
    if (stop - start < 2) {  // TriangularFilter.band_bins: a filter one bin wide
      center = start;
      stop = start + 1;
    }
    std::vector<double> data(stop - start, 0.0);
    const int c = center - start, width = stop - start;
    for (int j = 0; j < c; ++j) data[j] = static_cast<double>(j) / c;                        // linspace(0, 1, c, endpoint=False)
    for (int j = c; j < width; ++j) data[j] = 1.0 - static_cast<double>(j - c) / (width - c);  // linspace(1, 0, ...)
    double sum = 0.0;
    for (double v : data) sum += v;
    for (int j = 0; j < width; ++j)
      dense[static_cast<std::size_t>(b) * n_bins + start + j] = o.norm_filters ? data[j] / sum : data[j];
    band_hz[b] = bin_hz[center];
  }
  return Filterbank::from_dense(dense, n_bands, n_bins, std::move(band_hz));
}

struct Spectrogram::Plan {
  explicit Plan(int n_fft) : fft(static_cast<std::size_t>(n_fft)) {}
  pocketfft::detail::pocketfft_r<double> fft;
};

Spectrogram::Spectrogram(SpectrogramOptions o, Filterbank bank) : options_(o), bank_(std::move(bank)) {
  if (o.n_fft < 2 || o.n_fft % 2) throw std::invalid_argument("spectrogram: n_fft must be even and >= 2");
  if (o.hop_length < 1) throw std::invalid_argument("spectrogram: hop_length must be >= 1");
  const int win = o.win_length == 0 ? o.n_fft : o.win_length;
  if (win < 1 || win > o.n_fft) throw std::invalid_argument("spectrogram: win_length must be in [1, n_fft]");
  if (!(o.power > 0)) throw std::invalid_argument("spectrogram: power must be > 0");
  if (bank_.n_bins > o.n_fft / 2 + 1 || bank_.n_bands() < 1)
    throw std::invalid_argument("spectrogram: the filterbank does not fit n_fft");
  if (o.log == SpectrogramOptions::Log::Db && !(o.amin > 0))
    throw std::invalid_argument("spectrogram: amin must be > 0");
  // Hann window of win samples (periodic: scipy get_window('hann', fftbins=True); symmetric:
  // np.hanning), centred in n_fft as librosa.util.pad_center does.
  window_.assign(o.n_fft, 0.0);
  const int lpad = (o.n_fft - win) / 2;
  const double denom = o.symmetric_window ? win - 1 : win;
  for (int j = 0; j < win; ++j)
    window_[lpad + j] = win == 1 ? 1.0 : 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * j / denom);
  plan_ = std::make_unique<Plan>(o.n_fft);
}

Spectrogram::~Spectrogram() = default;

std::int64_t Spectrogram::n_frames(std::int64_t n) const noexcept {
  if (n < 0) return 0;
  if (options_.center) return 1 + n / options_.hop_length;
  return n < options_.n_fft ? 0 : 1 + (n - options_.n_fft) / options_.hop_length;
}

void Spectrogram::compute(const float* x, std::int64_t n, float* out) const {
  const int nfft = options_.n_fft, n_bins = nfft / 2 + 1, n_bands = bank_.n_bands();
  const std::int64_t frames = n_frames(n);
  std::vector<FftLanes> in(nfft);
  std::vector<double> mag(n_bins);
  const double* w = window_.data();
  const double power = options_.power;
  // kLanes frames at a time, one per SIMD lane: each lane sees the same operations as a
  // one-frame transform, so the bits are those of frame-by-frame (bench/cpp/fft_bench: ~1.3x).
  for (std::int64_t t0 = 0; t0 < frames; t0 += kLanes) {
    const int lanes = static_cast<int>(std::min<std::int64_t>(kLanes, frames - t0));
    for (int l = 0; l < kLanes; ++l) {
      const std::int64_t start = (t0 + l) * options_.hop_length - (options_.center ? nfft / 2 : 0);
      if (l >= lanes) {
        for (int j = 0; j < nfft; ++j) lane(in[j], l) = 0.0;
      } else if (start >= 0 && start + nfft <= n) {
        const float* src = x + start;
        for (int j = 0; j < nfft; ++j) lane(in[j], l) = src[j] * w[j];
      } else {  // center padding: zeros outside the window
        for (int j = 0; j < nfft; ++j) {
          const std::int64_t i = start + j;
          lane(in[j], l) = i >= 0 && i < n ? x[i] * w[j] : 0.0;
        }
      }
    }
    // In place, FFTPACK's half-complex order: r0, r1, i1, r2, i2, ..., r(n/2) (n even).
    plan_->fft.exec(in.data(), 1.0, true);
    for (int l = 0; l < lanes; ++l) {
      const auto v = [&](int j) { return lane(in[j], l); };
      mag[0] = v(0) * v(0);
      for (int k = 1; k < n_bins - 1; ++k) mag[k] = v(2 * k - 1) * v(2 * k - 1) + v(2 * k) * v(2 * k);
      mag[n_bins - 1] = v(nfft - 1) * v(nfft - 1);
      if (power == 1.0) {
        for (int k = 0; k < n_bins; ++k) mag[k] = std::sqrt(mag[k]);
      } else if (power != 2.0) {
        for (int k = 0; k < n_bins; ++k) mag[k] = std::pow(std::sqrt(mag[k]), power);
      }
      float* row = out + (t0 + l) * n_bands;
      for (int b = 0; b < n_bands; ++b) {
        const float* wt = bank_.weights.data() + bank_.offset[b];
        const double* m = mag.data() + bank_.first_bin[b];
        const std::size_t len = bank_.offset[b + 1] - bank_.offset[b];
        double acc = 0.0;
        for (std::size_t j = 0; j < len; ++j) acc += wt[j] * m[j];
        row[b] = static_cast<float>(acc);
      }
    }
  }
  const std::size_t total = static_cast<std::size_t>(frames) * n_bands;
  if (options_.log == SpectrogramOptions::Log::Db) {
    // float log10, as librosa computes it on float32 (a double log10 costs ~20% of the window).
    const auto ref_db = static_cast<float>(10.0 * std::log10(std::max(options_.amin, options_.ref)));
    const auto amin = static_cast<float>(options_.amin);
    float top = -std::numeric_limits<float>::infinity();
    for (std::size_t i = 0; i < total; ++i) {
      out[i] = 10.0f * std::log10(std::max(amin, out[i])) - ref_db;
      top = std::max(top, out[i]);
    }
    if (options_.top_db > 0) {
      const float floor = static_cast<float>(top - options_.top_db);
      for (std::size_t i = 0; i < total; ++i) out[i] = std::max(out[i], floor);
    }
  } else if (options_.log == SpectrogramOptions::Log::Log10) {
    // In double: float32's 1 + x rounds x < 6e-8 away (madmom, in float32, gives 0 there).
    for (std::size_t i = 0; i < total; ++i)
      out[i] = static_cast<float>(std::log10(options_.log_mul * out[i] + options_.log_add));
  }
}

void Spectrogram::compute_batch(const float* x, std::size_t count, std::int64_t n, float* out, runtime::Job& job) const {
  const std::size_t per = static_cast<std::size_t>(n_frames(n)) * static_cast<std::size_t>(n_bands());
  auto one = [&](std::size_t i) { compute(x + i * static_cast<std::size_t>(n), n, out + i * per); };
  job.for_each(count, one);
}

}  // namespace cadence::kernels
