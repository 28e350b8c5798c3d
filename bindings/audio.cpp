#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <memory>

#include "cadence/io/audio/decoder.h"
#include "cadence/io/audio/soundfont_synth.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
namespace audio = cadence::io::audio;

namespace cadence::bindings {

namespace {

nb::dict info_dict(const audio::AudioInfo& i) {
  nb::dict d;
  d["frames"] = i.frames;
  d["sample_rate_hz"] = i.sample_rate_hz;
  d["channels"] = i.channels;
  d["duration_s"] = i.duration_s();
  d["container"] = i.container;
  d["encoding"] = i.encoding;
  return d;
}

// (samples, info): samples view the decoder's buffer, which the array's owner capsule frees.
nb::tuple samples_and_info(std::unique_ptr<audio::DecodedAudio> decoded, bool mono) {
  nb::dict info = info_dict(decoded->info);
  const std::size_t channels = mono ? 1 : static_cast<std::size_t>(decoded->info.channels);
  const std::size_t frames = decoded->samples.size() / channels;
  float* data = decoded->samples.data();
  if (mono) return nb::make_tuple(to_numpy(std::move(decoded), data, {frames}), info);
  return nb::make_tuple(to_numpy(std::move(decoded), data, {frames, channels}), info);
}

}  // namespace

void register_audio(nb::module_& m) {
  nb::exception<audio::AudioError>(m, "AudioError", PyExc_ValueError);
  nb::exception<audio::SoundFontError>(m, "SoundFontError", PyExc_ValueError);

  m.def(
      "render_drum_kit",
      [](const std::string& soundfont_path, int program, Matrix<std::int64_t> events,
         std::int64_t n_samples, int sample_rate_hz) {
        if (events.shape(1) != 4) throw std::invalid_argument("events must have 4 columns: sample, kind, a, b");
        std::vector<audio::SynthEvent> list(events.shape(0));
        const std::int64_t* e = events.data();
        for (std::size_t i = 0; i < list.size(); ++i, e += 4)
          list[i] = {e[0], static_cast<std::int32_t>(e[1]), static_cast<std::int32_t>(e[2]), static_cast<std::int32_t>(e[3])};
        std::vector<float> out;
        {
          nb::gil_scoped_release unlocked;
          out = audio::render_drum_kit(soundfont_path, program, std::move(list), n_samples, sample_rate_hz);
        }
        return to_numpy(std::move(out), {static_cast<std::size_t>(n_samples), 2});
      },
      nb::arg("soundfont_path"), nb::arg("program"), nb::arg("events"), nb::arg("n_samples"),
      nb::arg("sample_rate_hz"),
      "Render MIDI events through drum kit `program` (bank 128) of a SoundFont 2 file with "
      "TinySoundFont: events is an int64 (n, 4) array of (sample, kind, a, b), kind 0 note off "
      "(a = key), 1 control change (a = controller, b = value), 2 note on (a = key, b = "
      "velocity). Returns float32 stereo frames, shape (n_samples, 2).");

  m.def(
      "audio_probe",
      [](const std::string& path) {
        audio::AudioInfo info;
        {
          nb::gil_scoped_release unlocked;
          info = audio::probe(path);
        }
        return info_dict(info);
      },
      nb::arg("path"), "Header of an audio file: frames, sample_rate_hz, channels, duration_s...");

  m.def(
      "audio_decode",
      [](const std::string& path, bool mono) {
        auto decoded = std::make_unique<audio::DecodedAudio>();
        {
          nb::gil_scoped_release unlocked;
          *decoded = audio::decode(path, mono);
        }
        return samples_and_info(std::move(decoded), mono);
      },
      nb::arg("path"), nb::arg("mono") = true,
      "Decode a whole file to float32 (full scale 1.0). Returns (samples, info); samples has "
      "shape (frames,) when mono, else (frames, channels). No copy is made.");

  m.def(
      "audio_decode_bytes",
      [](nb::bytes data, const std::string& name) {
        auto decoded = std::make_unique<audio::DecodedAudio>();
        const char* bytes = data.c_str();  // read with the GIL held; `data` stays referenced
        const std::size_t size = data.size();
        {
          nb::gil_scoped_release unlocked;
          *decoded = audio::decode_memory(bytes, size, name, true);
        }
        nb::tuple both = samples_and_info(std::move(decoded), true);
        return nb::object(both[0]);
      },
      nb::arg("data"), nb::arg("name"),
      "Decode an encoded file held in bytes (e.g. a FLAC clip) to mono float32; `name` is used "
      "in error messages.");
}

}  // namespace cadence::bindings
