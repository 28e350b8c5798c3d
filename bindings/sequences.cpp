// Sequence examples for python/cadence/drums/sequences.py: per-window spectrogram features
// (src/cadence/kernels/spectrogram.h) and frame-level targets (src/cadence/drums/sequence_targets.h).
// numpy in, numpy out, GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/unique_ptr.h>

#include <cmath>
#include <memory>
#include <optional>

#include "cadence/drums/audio_store.h"
#include "cadence/drums/sequence_batch.h"
#include "cadence/drums/sequence_targets.h"
#include "cadence/kernels/spectrogram.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

namespace {


using kernels::Spectrogram;
using kernels::SpectrogramOptions;

SpectrogramOptions::Log parse_log(const std::string& log) {
  if (log == "none") return SpectrogramOptions::Log::None;
  if (log == "db") return SpectrogramOptions::Log::Db;
  if (log == "log10") return SpectrogramOptions::Log::Log10;
  throw std::invalid_argument("log must be 'none', 'db' or 'log10', not '" + log + "'");
}

}  // namespace

void register_sequences(nb::module_& m) {
  nb::class_<Spectrogram>(m, "Spectrogram", "Per-window spectrogram features (librosa mel or madmom log-filtered).")
      .def_static(
          "mel",
          [](int sample_rate_hz, int n_fft, int hop_length, int win_length, bool center, double power, int n_mels,
             double fmin_hz, double fmax_hz, bool htk, std::string norm, double norm_p, std::string log, double amin,
             double ref, double top_db) {
            kernels::MelOptions mo{n_mels, fmin_hz, fmax_hz, htk, std::move(norm), norm_p};
            SpectrogramOptions so;
            so.n_fft = n_fft;
            so.hop_length = hop_length;
            so.win_length = win_length;
            so.center = center;
            so.power = power;
            so.log = parse_log(log);
            so.amin = amin;
            so.ref = ref;
            so.top_db = top_db;
            nb::gil_scoped_release release;
            return std::make_unique<Spectrogram>(so, kernels::mel_filterbank(sample_rate_hz, n_fft, mo));
          },
          "sample_rate_hz"_a, "n_fft"_a, "hop_length"_a, "win_length"_a, "center"_a, "power"_a, "n_mels"_a,
          "fmin_hz"_a, "fmax_hz"_a, "htk"_a, "norm"_a, "norm_p"_a, "log"_a, "amin"_a, "ref"_a, "top_db"_a,
          "librosa.feature.melspectrogram (then power_to_db when log='db'); norm: 'slaney', 'none' or 'p' "
          "(norm_p); fmax_hz <= 0: sample_rate_hz / 2; top_db <= 0: no floor.")
      .def_static(
          "log_filtered",
          [](int sample_rate_hz, int frame_size, int hop_length, bool center, int bands_per_octave, double fmin_hz,
             double fmax_hz, double fref_hz, bool norm_filters, bool unique_filters, std::string log, double log_mul,
             double log_add) {
            kernels::LogFilterOptions lo{bands_per_octave, fmin_hz, fmax_hz, fref_hz, norm_filters, unique_filters};
            SpectrogramOptions so;
            so.n_fft = frame_size;
            so.hop_length = hop_length;
            so.center = center;
            so.symmetric_window = true;
            so.power = 1.0;
            so.log = parse_log(log);
            so.log_mul = log_mul;
            so.log_add = log_add;
            nb::gil_scoped_release release;
            return std::make_unique<Spectrogram>(so, kernels::log_filterbank(sample_rate_hz, frame_size, lo));
          },
          "sample_rate_hz"_a, "frame_size"_a, "hop_length"_a, "center"_a, "bands_per_octave"_a, "fmin_hz"_a,
          "fmax_hz"_a, "fref_hz"_a, "norm_filters"_a, "unique_filters"_a, "log"_a, "log_mul"_a, "log_add"_a,
          "madmom's LogarithmicFilteredSpectrogram (magnitude, symmetric Hann, log10(mul * S + add) when "
          "log='log10').")
      .def("n_frames", &Spectrogram::n_frames, "n_samples"_a, "Frames of a window of n_samples.")
      .def_prop_ro("n_bands", &Spectrogram::n_bands)
      .def_prop_ro(
          "band_hz",
          [](const Spectrogram& s) {
            auto v = s.filterbank().band_hz;
            return to_numpy(std::move(v));
          },
          "Centre frequency of each band, Hz.")
      .def(
          "filterbank",
          [](const Spectrogram& s) {
            const auto& f = s.filterbank();
            return to_numpy(f.dense(), {static_cast<std::size_t>(f.n_bands()), static_cast<std::size_t>(f.n_bins)});
          },
          "The filterbank as a dense (n_bands, n_bins) float32 array (librosa's mel_basis layout).")
      .def(
          "compute",
          [](const Spectrogram& s, Matrix<float> audio, runtime::Job& job) {
            const std::size_t count = audio.shape(0);
            const auto n = static_cast<std::int64_t>(audio.shape(1));
            const auto frames = static_cast<std::size_t>(s.n_frames(n));
            const auto bands = static_cast<std::size_t>(s.n_bands());
            std::vector<float> out(count * frames * bands);
            {
              nb::gil_scoped_release release;
              s.compute_batch(audio.data(), count, n, out.data(), job);
            }
            return to_numpy(std::move(out), {count, frames, bands});
          },
          "audio"_a, "job"_a,
          "Features of each row of a (count, n_samples) float32 array, on the job's threads: (count, n_frames, "
          "n_bands) float32, time-major.");

  m.def(
      "drums_read_sequences",
      [](const drums::AudioStore& store, const Spectrogram* spectrogram, Column<std::int64_t> onset_sample,
         Matrix<std::uint8_t> classes, Matrix<std::uint8_t> class_velocity, Column<std::int64_t> file_begin,
         Column<std::int64_t> files, Column<std::int64_t> starts, std::int64_t n_samples, std::int64_t hop_samples,
         Column<float> widening, runtime::Job& job) {
        const std::size_t n_rec = onset_sample.shape(0), k = classes.shape(1);
        if (classes.shape(0) != n_rec || class_velocity.shape(0) != n_rec || class_velocity.shape(1) != k)
          throw std::invalid_argument("read sequences: label arrays differ in shape");
        if (file_begin.shape(0) < 1 || files.shape(0) != starts.shape(0))
          throw std::invalid_argument("read sequences: files and starts differ in length");
        if (hop_samples < 1 || n_samples < 0) throw std::invalid_argument("read sequences: hop must be >= 1");
        const drums::OnsetTable table{onset_sample.data(), classes.data(), class_velocity.data(), file_begin.data(),
                                      file_begin.shape(0) - 1, static_cast<int>(k)};
        const drums::FrameGrid grid{n_samples, hop_samples};
        const std::size_t count = files.shape(0), frames = static_cast<std::size_t>(grid.n_frames());
        const std::size_t bands = spectrogram ? static_cast<std::size_t>(spectrogram->n_bands()) : 0;
        std::vector<float> audio(count * static_cast<std::size_t>(n_samples)), feats(count * frames * bands);
        std::vector<float> roll(count * frames * k);
        std::vector<std::uint8_t> vel(count * frames * k);
        {
          nb::gil_scoped_release release;
          drums::read_sequence_batch(store, spectrogram, table, files.data(), starts.data(), count, grid,
                                     widening.data(), widening.shape(0),
                                     {audio.data(), spectrogram ? feats.data() : nullptr, roll.data(), vel.data()}, job);
        }
        nb::object features = spectrogram ? to_numpy(std::move(feats), {count, frames, bands}) : nb::none();
        return nb::make_tuple(to_numpy(std::move(audio), {count, static_cast<std::size_t>(n_samples)}), features,
                              to_numpy(std::move(roll), {count, frames, k}), to_numpy(std::move(vel), {count, frames, k}));
      },
      "store"_a, "spectrogram"_a.none(), "onset_sample"_a, "classes"_a, "class_velocity"_a, "file_begin"_a,
      "files"_a, "starts"_a, "n_samples"_a, "hop_samples"_a, "widening"_a, "job"_a,
      "(audio, features or None, onset_roll, velocity_roll) of windows (file, first sample), each window read, "
      "transformed and labelled in one pass on the job's threads.");

  m.def(
      "drums_sequence_targets",
      [](Column<std::int64_t> onset_sample, Matrix<std::uint8_t> classes, Matrix<std::uint8_t> class_velocity,
         Column<std::int64_t> file_begin, Column<std::int64_t> files, Column<std::int64_t> starts,
         std::int64_t n_samples, std::int64_t hop_samples, Column<float> widening) {
        const std::size_t n_rec = onset_sample.shape(0), k = classes.shape(1);
        if (classes.shape(0) != n_rec || class_velocity.shape(0) != n_rec || class_velocity.shape(1) != k)
          throw std::invalid_argument("sequence targets: label arrays differ in shape");
        if (file_begin.shape(0) < 1 || files.shape(0) != starts.shape(0))
          throw std::invalid_argument("sequence targets: files and starts differ in length");
        if (hop_samples < 1 || n_samples < 0) throw std::invalid_argument("sequence targets: hop must be >= 1");
        drums::OnsetTable table{onset_sample.data(), classes.data(), class_velocity.data(), file_begin.data(),
                                file_begin.shape(0) - 1, static_cast<int>(k)};
        const drums::FrameGrid grid{n_samples, hop_samples};
        const std::size_t count = files.shape(0), frames = static_cast<std::size_t>(grid.n_frames());
        std::vector<float> roll(count * frames * k);
        std::vector<std::uint8_t> vel(count * frames * k);
        {
          nb::gil_scoped_release release;
          drums::sequence_targets(table, files.data(), starts.data(), count, grid, widening.data(),
                                  widening.shape(0), roll.data(), vel.data());
        }
        return std::make_tuple(to_numpy(std::move(roll), {count, frames, k}), to_numpy(std::move(vel), {count, frames, k}));
      },
      "onset_sample"_a, "classes"_a, "class_velocity"_a, "file_begin"_a, "files"_a, "starts"_a, "n_samples"_a,
      "hop_samples"_a, "widening"_a,
      "(onset_roll float32, velocity_roll uint8), each (count, 1 + n_samples // hop, n_classes), of windows "
      "(file, first sample) over records sorted by (file, onset_sample).");
}

}  // namespace cadence::bindings
