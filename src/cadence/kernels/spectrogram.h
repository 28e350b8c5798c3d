// Spectrogram features of audio windows, computed in the engine (per window, on the job's
// threads) for sequence-level drum-transcription models: librosa's mel spectrogram (optionally
// in dB, as power_to_db) and madmom's log-filtered spectrogram. The FFT is pocketfft's
// (vendor/pocketfft); the framing, windows and filterbanks follow the two libraries' conventions exactly
// so that models trained on their output see the same numbers (tests compare with librosa).
//
// Layout: one window of n samples gives n_frames x n_bands floats, time-major (frame after
// frame), the transpose of librosa's (n_mels, n_frames).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cadence/runtime/job.h"

namespace cadence::kernels {

// A band-by-bin filterbank stored sparsely: band b has weights[offset[b] .. offset[b + 1]) on
// FFT bins first_bin[b] .. first_bin[b] + (offset[b + 1] - offset[b]). Mel and log filters are
// triangles a few bins wide, so this is ~n_bins multiply-adds per frame instead of n_bands x n_bins.
struct Filterbank {
  int n_bins = 0;                   // rfft bins it applies to (n_fft / 2 + 1)
  std::vector<int> first_bin;       // per band
  std::vector<std::size_t> offset;  // per band + 1
  std::vector<float> weights;
  std::vector<double> band_hz;      // per band: the centre frequency (mel) or the centre bin's (log)

  [[nodiscard]] int n_bands() const noexcept { return static_cast<int>(first_bin.size()); }
  // Dense (n_bands x n_bins) copy, for tests and for users who want to see the filters.
  [[nodiscard]] std::vector<float> dense() const;
  // Drops the zeros at both ends of each row of a dense (n_bands x n_bins) matrix.
  static Filterbank from_dense(const std::vector<double>& dense, int n_bands, int n_bins, std::vector<double> band_hz);
};

// librosa.filters.mel(sr=, n_fft=, n_mels=, fmin=, fmax=, htk=, norm=): norm is "slaney", "none",
// or a p-norm given as a number in `norm_p` (norm = "p"); fmax <= 0 means sr / 2.
struct MelOptions {
  int n_mels = 128;
  double fmin_hz = 0.0;
  double fmax_hz = 0.0;
  bool htk = false;
  std::string norm = "slaney";
  double norm_p = 1.0;
};
Filterbank mel_filterbank(int sample_rate_hz, int n_fft, const MelOptions& options);

// madmom.audio.filters.LogarithmicFilterbank over the bins of a frame_size FFT *without* its
// Nyquist bin (madmom's fft_frequencies): log-spaced centres (bands_per_octave, fmin, fmax,
// fref), snapped to the nearest bin, duplicates removed (unique_filters), overlapping triangles,
// each normalised to sum 1 (norm_filters).
struct LogFilterOptions {
  int bands_per_octave = 12;
  double fmin_hz = 30.0;
  double fmax_hz = 17000.0;
  double fref_hz = 440.0;
  bool norm_filters = true;
  bool unique_filters = true;
};
Filterbank log_filterbank(int sample_rate_hz, int frame_size, const LogFilterOptions& options);

// How a window becomes frames and what each frame's value is.
struct SpectrogramOptions {
  int n_fft = 2048;
  int hop_length = 512;
  int win_length = 0;              // 0: n_fft (a shorter Hann window is centred in n_fft, as librosa pads it)
  bool center = true;              // frame t is centred on sample t * hop (zero padding of n_fft / 2 each side)
  bool symmetric_window = false;   // false: periodic Hann (librosa, scipy fftbins=True); true: np.hanning (madmom)
  double power = 2.0;              // |X| ** power before the filterbank (madmom: 1, magnitude)
  enum class Log { None, Db, Log10 } log = Log::None;
  // Log::Db, as librosa.power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), then
  // floored at (max over the window) - top_db when top_db > 0.
  double amin = 1e-10;
  double ref = 1.0;
  double top_db = 80.0;
  // Log::Log10, as madmom's LogarithmicSpectrogram: log10(mul * S + add).
  double log_mul = 1.0;
  double log_add = 1.0;
};

class Spectrogram {
 public:
  // Throws std::invalid_argument on an option out of range (naming it).
  Spectrogram(SpectrogramOptions options, Filterbank filterbank);
  ~Spectrogram();
  Spectrogram(const Spectrogram&) = delete;
  Spectrogram& operator=(const Spectrogram&) = delete;

  // Frames of a window of n samples: 1 + n / hop with center padding, 1 + (n - n_fft) / hop
  // without (0 when n < n_fft), exactly librosa.stft's count.
  [[nodiscard]] std::int64_t n_frames(std::int64_t n_samples) const noexcept;
  [[nodiscard]] int n_bands() const noexcept { return bank_.n_bands(); }
  [[nodiscard]] const Filterbank& filterbank() const noexcept { return bank_; }
  [[nodiscard]] const SpectrogramOptions& options() const noexcept { return options_; }

  // One window: out is n_frames(n) x n_bands. Thread-safe (each thread has its own buffers).
  void compute(const float* samples, std::int64_t n, float* out) const;
  // `count` windows of n samples each (count x n), on the job's threads; out is count x n_frames x n_bands.
  void compute_batch(const float* samples, std::size_t count, std::int64_t n, float* out, runtime::Job& job) const;

 private:
  struct Plan;
  SpectrogramOptions options_;
  Filterbank bank_;
  std::vector<double> window_;  // n_fft long
  std::unique_ptr<Plan> plan_;
};

}  // namespace cadence::kernels
