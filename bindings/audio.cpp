#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include "cadence/io/audio/decoder.h"
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
        auto* decoded = new audio::DecodedAudio;
        {
          nb::gil_scoped_release unlocked;
          try {
            *decoded = audio::decode(path, mono);
          } catch (...) {
            delete decoded;
            throw;
          }
        }
        // The array views the decoder's own buffer; the capsule frees it with the array.
        nb::capsule owner(decoded, [](void* p) noexcept { delete static_cast<audio::DecodedAudio*>(p); });
        const std::size_t channels = mono ? 1 : static_cast<std::size_t>(decoded->info.channels);
        const std::size_t frames = decoded->samples.size() / channels;
        nb::dict info = info_dict(decoded->info);
        if (mono) {
          size_t shape[1] = {frames};
          return nb::make_tuple(
              nb::ndarray<nb::numpy, float>(decoded->samples.data(), 1, shape, owner), info);
        }
        size_t shape[2] = {frames, channels};
        return nb::make_tuple(
            nb::ndarray<nb::numpy, float>(decoded->samples.data(), 2, shape, owner), info);
      },
      nb::arg("path"), nb::arg("mono") = true,
      "Decode a whole file to float32 (full scale 1.0). Returns (samples, info); samples has "
      "shape (frames,) when mono, else (frames, channels). No copy is made.");

  m.def(
      "audio_decode_bytes",
      [](nb::bytes data, const std::string& name) {
        auto* decoded = new audio::DecodedAudio;
        const char* bytes = data.c_str();  // read with the GIL held; `data` stays referenced
        const std::size_t size = data.size();
        {
          nb::gil_scoped_release unlocked;
          try {
            *decoded = audio::decode_memory(bytes, size, name, true);
          } catch (...) {
            delete decoded;
            throw;
          }
        }
        nb::capsule owner(decoded, [](void* p) noexcept { delete static_cast<audio::DecodedAudio*>(p); });
        size_t shape[1] = {decoded->samples.size()};
        return nb::ndarray<nb::numpy, float>(decoded->samples.data(), 1, shape, owner);
      },
      nb::arg("data"), nb::arg("name"),
      "Decode an encoded file held in bytes (e.g. a FLAC clip) to mono float32; `name` is used "
      "in error messages.");
}

}  // namespace cadence::bindings
