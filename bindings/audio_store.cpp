// The random-access reader of prepared drum audio (src/cadence/drums/audio_store.h) and the one
// window function, for python/cadence/drums/dataset.py: numpy in, numpy out, GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "cadence/drums/audio_store.h"
#include "cadence/drums/window.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

namespace {

PyObject* stored_audio_error = nullptr;

}  // namespace

void register_audio_store(nb::module_& m) {
  // args = (message, source index): the Python side names the record and shard from the index.
  stored_audio_error = PyErr_NewException("cadence._core.StoredAudioError", PyExc_ValueError, nullptr);
  m.attr("StoredAudioError") = nb::handle(stored_audio_error);
  nb::register_exception_translator(
      [](const std::exception_ptr& p, void*) {
        try {
          std::rethrow_exception(p);
        } catch (const drums::StoredAudioError& e) {
          PyObject* args = Py_BuildValue("(sL)", e.what(), static_cast<long long>(e.source));
          PyErr_SetObject(stored_audio_error, args);
          Py_XDECREF(args);
        }
      },
      nullptr);

  m.def(
      "drums_onset_window",
      [](std::int64_t onset_sample, double pad_before_s, double clip_s, int rate_hz) {
        const auto w = drums::onset_window(onset_sample, pad_before_s, clip_s, rate_hz);
        return std::make_tuple(w.start_sample, w.n_samples);
      },
      "onset_sample"_a, "pad_before_s"_a, "clip_s"_a, "rate_hz"_a,
      "(start_sample, n_samples) of the window around an onset: the one rounding rule of prepare and read.");
  m.def(
      "drums_window_starts",
      [](Column<std::int64_t> onset_samples, double pad_before_s, int rate_hz) {
        std::vector<std::int64_t> out(onset_samples.shape(0));
        for (std::size_t i = 0; i < out.size(); ++i)
          out[i] = drums::onset_window(onset_samples(i), pad_before_s, 0.0, rate_hz).start_sample;
        return to_numpy(std::move(out));
      },
      "onset_samples"_a, "pad_before_s"_a, "rate_hz"_a, "drums_onset_window's start for every onset.");

  m.def(
      "drums_onset_samples",
      [](Column<double> onset_s, int rate_hz) {
        std::vector<std::int64_t> out(onset_s.shape(0));
        for (std::size_t i = 0; i < out.size(); ++i) out[i] = drums::onset_sample(onset_s(i), rate_hz);
        return to_numpy(std::move(out));
      },
      "onset_s"_a, "rate_hz"_a, "The sample each onset falls on at rate_hz (prepare's rounding).");

  nb::class_<drums::AudioStore>(m, "AudioStore",
                                "Stored audio (flat blob files + a table of sources), read window by window.")
      .def(
          "__init__",
          [](drums::AudioStore* self, std::vector<std::string> paths, Column<std::int32_t> blob,
             Column<std::int64_t> offset, Column<std::int64_t> n_bytes, Column<std::int64_t> n_samples,
             Column<std::int8_t> codec, Column<std::uint32_t> block_size, Column<std::int64_t> frames_begin,
             Column<std::int64_t> n_frames, Column<std::uint32_t> frame_offsets) {
            const std::size_t n = blob.shape(0);
            for (auto len : {offset.shape(0), n_bytes.shape(0), n_samples.shape(0), codec.shape(0),
                             block_size.shape(0), frames_begin.shape(0), n_frames.shape(0)})
              if (len != n) throw std::invalid_argument("AudioStore: source columns differ in length");
            std::vector<drums::AudioSource> sources(n);
            for (std::size_t i = 0; i < n; ++i)
              sources[i] = {blob(i), offset(i), n_bytes(i), n_samples(i), static_cast<drums::Codec>(codec(i)),
                            block_size(i), frames_begin(i), n_frames(i)};
            std::vector<std::uint32_t> frames(frame_offsets.data(), frame_offsets.data() + frame_offsets.shape(0));
            nb::gil_scoped_release release;
            new (self) drums::AudioStore(std::move(paths), std::move(sources), std::move(frames));
          },
          "paths"_a, "blob"_a, "offset"_a, "n_bytes"_a, "n_samples"_a, "codec"_a, "block_size"_a,
          "frames_begin"_a, "n_frames"_a, "frame_offsets"_a,
          "Open the blob files; checks every source and frame table against the files (codec: "
          "1 flac, 2 pcm16, 3 float16, 4 float32).")
      .def("__len__", &drums::AudioStore::size)
      .def(
          "read",
          [](const drums::AudioStore& s, std::int64_t source, std::int64_t start, std::int64_t n) {
            std::vector<float> out(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
            {
              nb::gil_scoped_release release;
              s.read(source, start, n, out.data());
            }
            return to_numpy(std::move(out));
          },
          "source"_a, "start_sample"_a, "n_samples"_a,
          "Samples [start, start + n) of one source as float32, zero outside the stored audio.")
      .def("check", &drums::AudioStore::check, "source"_a, nb::call_guard<nb::gil_scoped_release>(),
           "Decode a whole source, a FLAC file frame by frame through its table; raises on a problem.")
      .def(
          "read_batch",
          [](const drums::AudioStore& s, Column<std::int64_t> sources, Column<std::int64_t> starts, std::int64_t n,
             runtime::Job& job, int from_rate_hz, int to_rate_hz) {
            const std::size_t count = sources.shape(0);
            if (starts.shape(0) != count) throw std::invalid_argument("read_batch: sources and starts differ in length");
            if (n < 0) throw std::invalid_argument("read_batch: n_samples must be >= 0");
            std::vector<float> out(count * static_cast<std::size_t>(n));
            {
              nb::gil_scoped_release release;
              s.read_batch(sources.data(), starts.data(), count, n, out.data(), job, from_rate_hz, to_rate_hz);
            }
            return to_numpy(std::move(out), {count, static_cast<std::size_t>(n)});
          },
          "sources"_a, "starts"_a, "n_samples"_a, "job"_a, "from_rate_hz"_a = 0, "to_rate_hz"_a = 0,
          "A (len(sources), n_samples) float32 array of windows, cut and decoded on the job's threads; "
          "with two different rates, `starts` and `n_samples` count at to_rate_hz and the stored audio "
          "(at from_rate_hz) is resampled around each window.");
}

}  // namespace cadence::bindings
