// How a clip's samples are stored in a record: FLAC (lossless 16-bit), raw PCM16, float16 or
// float32 (little-endian, no header), or "auto", the seed pipeline's size rule:
//   float32 size < 50 KiB        -> float32
//   50 KiB .. 400 KiB            -> float16
//   > 400 KiB                    -> FLAC, kept only if smaller than 0.7 x the float16 size
#pragma once

#include <cstddef>
#include <string>

#include "cadence/io/audio/flac_encoder.h"

namespace cadence::drums {

enum class Codec { Auto, Flac, Pcm16, Float16, Float32 };
// The number of codes: a stored record's codec id is its Codec value (Python reads the names
// by code from the bindings, drums_codecs()).
inline constexpr int kCodecCount = 5;

Codec parse_codec(const std::string& name);  // throws std::invalid_argument listing the names
const char* codec_name(Codec codec) noexcept;

struct EncodedClip {
  Codec codec;  // never Auto: the codec actually used
  std::string bytes;
};

// The codec the auto rule picks for `n` samples, before trying FLAC (Float32, Float16 or Flac).
Codec auto_codec(std::size_t n) noexcept;

EncodedClip encode_clip(const float* samples, std::size_t n, int sample_rate_hz, Codec codec,
                        io::audio::FlacEncoder& flac);

}  // namespace cadence::drums
