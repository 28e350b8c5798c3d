#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <memory>

#include "cadence/io/audio/decoder.h"
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
