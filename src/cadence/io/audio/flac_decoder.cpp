#include "cadence/io/audio/flac_decoder.h"

#include <FLAC/stream_decoder.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace cadence::io::audio {

struct FlacFrameDecoder::State {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0, pos = 0;
  std::uint64_t expect_frame = 0;  // frame number the next frame header must carry
  std::uint64_t base_sample = 0;   // stream sample number of the first frame's first sample
  std::uint64_t sample = 0;        // index of the next decoded sample (from the first frame)
  std::uint64_t skip = 0;
  std::size_t n = 0, written = 0;
  float* out = nullptr;
  std::string error;
};

namespace {

using State = FlacFrameDecoder::State;

FLAC__StreamDecoderReadStatus on_read(const FLAC__StreamDecoder*, FLAC__byte buffer[], std::size_t* bytes,
                                      void* client) {
  auto* s = static_cast<State*>(client);
  const std::size_t m = std::min(*bytes, s->size - s->pos);
  if (m == 0) {
    *bytes = 0;
    return FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM;
  }
  std::memcpy(buffer, s->data + s->pos, m);
  s->pos += m;
  *bytes = m;
  return FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
}

FLAC__StreamDecoderWriteStatus on_write(const FLAC__StreamDecoder*, const FLAC__Frame* frame,
                                        const FLAC__int32* const channels[], void* client) {
  auto* s = static_cast<State*>(client);
  const auto& h = frame->header;
  // libFLAC turns frame numbers into sample numbers before this call: frame k of a fixed block
  // size stream starts at k * block_size, or at k * blocksize for a short last frame when the
  // decoder has not seen frame 0 since it was set up.
  const std::uint64_t want = s->base_sample + s->sample;
  const std::uint64_t got = h.number_type == FLAC__FRAME_NUMBER_TYPE_SAMPLE_NUMBER
                                ? h.number.sample_number
                                : std::uint64_t{h.number.frame_number} * h.blocksize;
  if (got != want && got != std::uint64_t{h.blocksize} * s->expect_frame) {
    s->error = "found the frame of sample " + std::to_string(got) + " where frame " +
               std::to_string(s->expect_frame) + " (sample " + std::to_string(want) +
               ") was expected: the frame table does not match the audio";
    return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
  }
  if (h.channels != 1 || h.bits_per_sample != 16) {
    s->error = "frame " + std::to_string(s->expect_frame) + " is not 16-bit mono";
    return FLAC__STREAM_DECODER_WRITE_STATUS_ABORT;
  }
  ++s->expect_frame;
  const std::uint64_t lo = s->sample, hi = s->sample + h.blocksize;
  s->sample = hi;
  const std::uint64_t a = std::max(lo, s->skip), b = std::min<std::uint64_t>(hi, s->skip + s->n);
  constexpr float kScale = 1.0f / 32768.0f;  // libsndfile's int16 -> float convention
  for (std::uint64_t i = a; i < b; ++i) s->out[i - s->skip] = static_cast<float>(channels[0][i - lo]) * kScale;
  if (b > a) s->written = static_cast<std::size_t>(b - s->skip);
  return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
}

void on_error(const FLAC__StreamDecoder*, FLAC__StreamDecoderErrorStatus status, void* client) {
  auto* s = static_cast<State*>(client);
  if (s->error.empty())
    s->error = std::string("FLAC frame ") + std::to_string(s->expect_frame) + ": " +
               FLAC__StreamDecoderErrorStatusString[status];
}

FLAC__StreamDecoder* dec(void* p) { return static_cast<FLAC__StreamDecoder*>(p); }

std::uint32_t be24(const std::uint8_t* p) { return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | p[2]; }

}  // namespace

std::size_t flac_header_bytes(const std::uint8_t* data, std::size_t size) {
  if (size < 4 || std::memcmp(data, "fLaC", 4) != 0) return 0;
  std::size_t pos = 4;
  for (;;) {
    if (pos + 4 > size) throw FlacFrameError("FLAC metadata runs past the end of the data");
    const bool last = data[pos] & 0x80;
    pos += 4 + be24(data + pos + 1);
    if (pos > size) throw FlacFrameError("FLAC metadata runs past the end of the data");
    if (last) return pos;
  }
}

FlacFrameDecoder::FlacFrameDecoder() : decoder_(FLAC__stream_decoder_new()), state_(new State) {
  if (!decoder_) throw std::bad_alloc();
  FLAC__stream_decoder_set_md5_checking(dec(decoder_), false);
  if (FLAC__stream_decoder_init_stream(dec(decoder_), on_read, nullptr, nullptr, nullptr, nullptr, on_write,
                                       nullptr, on_error, state_) != FLAC__STREAM_DECODER_INIT_STATUS_OK)
    throw std::runtime_error("FLAC decoder initialisation failed");
}

FlacFrameDecoder::~FlacFrameDecoder() {
  FLAC__stream_decoder_delete(dec(decoder_));
  delete state_;
}

std::size_t FlacFrameDecoder::decode(const std::uint8_t* data, std::size_t size, std::uint32_t block_size,
                                     std::uint64_t first_frame, std::uint64_t skip, std::size_t n, float* out) {
  auto* d = dec(decoder_);
  const std::size_t header = flac_header_bytes(data, size);
  *state_ = State{data + header, size - header, 0, first_frame, first_frame * block_size, 0, skip, n, 0, out, {}};
  // reset() forgets the previous stream (libFLAC remembers its block size and would number
  // this stream's frames with it); flush() then makes the decoder look for the next frame sync:
  // frames carry their own sample rate, size and number, so no STREAMINFO is needed.
  if (!FLAC__stream_decoder_reset(d) || !FLAC__stream_decoder_flush(d))
    throw FlacFrameError("FLAC decoder could not be reset");
  while (state_->written < n && state_->error.empty()) {
    if (!FLAC__stream_decoder_process_single(d)) break;
    const auto st = FLAC__stream_decoder_get_state(d);
    if (st == FLAC__STREAM_DECODER_END_OF_STREAM || st == FLAC__STREAM_DECODER_ABORTED) break;
  }
  if (!state_->error.empty()) {
    std::string e = std::move(state_->error);
    FLAC__stream_decoder_flush(d);
    throw FlacFrameError(e);
  }
  return state_->written;
}

}  // namespace cadence::io::audio
