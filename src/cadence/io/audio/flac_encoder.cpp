#include "cadence/io/audio/flac_encoder.h"

#include <FLAC/stream_encoder.h>

#include <cmath>
#include <stdexcept>
#include <algorithm>

namespace cadence::io::audio {

namespace {

struct Sink {
  std::string* out;
  FlacFrames* frames;  // may be null
};

// libFLAC hands each frame to the write callback in one call (samples > 0); metadata comes with
// samples == 0. That is what lets us note every frame's byte offset as it is written.
FLAC__StreamEncoderWriteStatus write_to_string(const FLAC__StreamEncoder*, const FLAC__byte buffer[],
                                               std::size_t bytes, std::uint32_t samples, std::uint32_t,
                                               void* client) {
  auto* sink = static_cast<Sink*>(client);
  if (sink->frames) {
    if (samples == 0 && sink->frames->offsets.empty())
      sink->frames->header_bytes = static_cast<std::uint32_t>(sink->out->size() + bytes);
    else if (samples > 0)
      sink->frames->offsets.push_back(static_cast<std::uint32_t>(sink->out->size()));
  }
  sink->out->append(reinterpret_cast<const char*>(buffer), bytes);
  return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
}

FLAC__StreamEncoder* enc(void* p) { return static_cast<FLAC__StreamEncoder*>(p); }

}  // namespace

std::int16_t float_to_pcm16(float x) noexcept {
  const float scaled = std::nearbyint(x * 32768.0f);
  if (!(scaled > -32768.0f)) return -32768;  // also maps NaN to a defined value
  if (scaled > 32767.0f) return 32767;
  return static_cast<std::int16_t>(scaled);
}

FlacEncoder::FlacEncoder(int compression_level, std::uint32_t block_size)
    : encoder_(FLAC__stream_encoder_new()), level_(compression_level), block_size_(block_size) {
  if (!encoder_) throw std::bad_alloc();
}

FlacEncoder::~FlacEncoder() { FLAC__stream_encoder_delete(enc(encoder_)); }

std::string FlacEncoder::encode(const float* samples, std::size_t n, int sample_rate_hz, FlacFrames* frames) {
  auto* e = enc(encoder_);
  std::string out;
  out.reserve(n + 128);  // FLAC of drums is ~40-60 % of PCM16: one reservation usually suffices
  bool ok = FLAC__stream_encoder_set_channels(e, 1) &&
            FLAC__stream_encoder_set_bits_per_sample(e, 16) &&
            FLAC__stream_encoder_set_sample_rate(e, static_cast<std::uint32_t>(sample_rate_hz)) &&
            FLAC__stream_encoder_set_compression_level(e, static_cast<std::uint32_t>(level_)) &&
            FLAC__stream_encoder_set_total_samples_estimate(e, n) &&
            FLAC__stream_encoder_set_verify(e, false) &&
            (block_size_ == 0 || FLAC__stream_encoder_set_blocksize(e, block_size_));
  if (frames) {
    *frames = FlacFrames{};
    frames->block_size = FLAC__stream_encoder_get_blocksize(e);
    frames->offsets.reserve(n / std::max<std::uint32_t>(frames->block_size, 1) + 1);
  }
  Sink sink{&out, frames};
  if (!ok || FLAC__stream_encoder_init_stream(e, write_to_string, nullptr, nullptr, nullptr, &sink) !=
                 FLAC__STREAM_ENCODER_INIT_STATUS_OK)
    throw std::runtime_error("FLAC encoder initialisation failed");
  constexpr std::size_t kBlock = 8192;
  FLAC__int32 block[kBlock];
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = std::min(kBlock, n - done);
    for (std::size_t i = 0; i < m; ++i) block[i] = float_to_pcm16(samples[done + i]);
    if (!FLAC__stream_encoder_process_interleaved(e, block, static_cast<std::uint32_t>(m))) {
      FLAC__stream_encoder_finish(e);
      throw std::runtime_error(std::string("FLAC encoding failed: ") +
                               FLAC__StreamEncoderStateString[FLAC__stream_encoder_get_state(e)]);
    }
    done += m;
  }
  if (!FLAC__stream_encoder_finish(e)) throw std::runtime_error("FLAC encoder finish failed");
  return out;
}

}  // namespace cadence::io::audio
