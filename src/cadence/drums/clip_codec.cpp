#include "cadence/drums/clip_codec.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "cadence/kernels/float16.h"

namespace cadence::drums {

namespace {

constexpr std::size_t kFloat32MaxBytes = 50 * 1024;
constexpr std::size_t kFloat16MaxBytes = 400 * 1024;
constexpr double kFlacKeepRatio = 0.7;

// Raw little-endian arrays: every platform we build for is little-endian, which the static
// assert makes explicit rather than byte-swapping on a path that never runs.
static_assert(std::endian::native == std::endian::little, "raw codecs assume little-endian");

template <class T, class F>
std::string pack(const float* x, std::size_t n, F convert) {
  std::string out(n * sizeof(T), '\0');
  auto* dst = reinterpret_cast<T*>(out.data());
  for (std::size_t i = 0; i < n; ++i) dst[i] = convert(x[i]);
  return out;
}

}  // namespace

Codec parse_codec(const std::string& name) {
  if (name == "auto") return Codec::Auto;
  if (name == "flac") return Codec::Flac;
  if (name == "pcm16") return Codec::Pcm16;
  if (name == "float16") return Codec::Float16;
  if (name == "float32") return Codec::Float32;
  throw std::invalid_argument("unknown codec '" + name +
                              "'; choose auto, flac, pcm16, float16 or float32");
}

const char* codec_name(Codec codec) noexcept {
  switch (codec) {
    case Codec::Auto: return "auto";
    case Codec::Flac: return "flac";
    case Codec::Pcm16: return "pcm16";
    case Codec::Float16: return "float16";
    case Codec::Float32: return "float32";
  }
  return "?";
}

// The seed's bands, both strict: float32 below 50 KiB, float16 below 400 KiB, else FLAC (kept
// only when it pays). A clip of exactly 400 KiB of float32 goes to FLAC, as in the seed.
Codec auto_codec(std::size_t n) noexcept {
  const std::size_t float32_bytes = n * sizeof(float);
  if (float32_bytes < kFloat32MaxBytes) return Codec::Float32;
  if (float32_bytes < kFloat16MaxBytes) return Codec::Float16;
  return Codec::Flac;
}

EncodedClip encode_clip(const float* x, std::size_t n, int sample_rate_hz, Codec codec,
                        io::audio::FlacEncoder& flac) {
  if (codec == Codec::Auto) {
    codec = auto_codec(n);
    if (codec == Codec::Flac) {
      EncodedClip f{Codec::Flac, flac.encode(x, n, sample_rate_hz)};
      if (static_cast<double>(f.bytes.size()) < kFlacKeepRatio * static_cast<double>(n * 2)) return f;
      codec = Codec::Float16;
    }
  }
  switch (codec) {
    case Codec::Flac: return {codec, flac.encode(x, n, sample_rate_hz)};
    case Codec::Pcm16: return {codec, pack<std::int16_t>(x, n, io::audio::float_to_pcm16)};
    case Codec::Float16: return {codec, pack<std::uint16_t>(x, n, kernels::float_to_half)};
    case Codec::Float32: {
      std::string out(n * sizeof(float), '\0');
      std::memcpy(out.data(), x, out.size());
      return {codec, std::move(out)};
    }
    case Codec::Auto: break;
  }
  throw std::logic_error("encode_clip: unreachable codec");
}

}  // namespace cadence::drums
