#include "cadence/io/audio/decoder.h"

#include <sndfile.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace cadence::io::audio {

namespace {

std::string format_name(int format) {
  SF_FORMAT_INFO info{};
  info.format = format;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) != 0 || info.name == nullptr)
    return "unknown";
  return info.name;
}

SNDFILE* open_file(const std::string& path, SF_INFO& sfinfo) {
  sfinfo = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &sfinfo);
  if (f == nullptr) throw AudioError(path, std::string("cannot open audio: ") + sf_strerror(nullptr));
  return f;
}

AudioInfo to_info(const std::string& path, const SF_INFO& s) {
  if (s.samplerate <= 0) throw AudioError(path, "invalid sample rate in header");
  if (s.channels <= 0) throw AudioError(path, "invalid channel count in header");
  AudioInfo info;
  info.frames = s.frames;
  info.sample_rate_hz = s.samplerate;
  info.channels = s.channels;
  info.container = format_name(s.format & SF_FORMAT_TYPEMASK);
  info.encoding = format_name(s.format & SF_FORMAT_SUBMASK);
  return info;
}

constexpr std::size_t kBlockFrames = 16384;

}  // namespace

AudioInfo probe(const std::string& path) {
  Reader r(path);
  return r.info();
}

struct Reader::Memory {
  const unsigned char* data;
  sf_count_t size;
  sf_count_t pos = 0;
};

namespace {

sf_count_t vio_length(void* u) { return static_cast<Reader::Memory*>(u)->size; }
sf_count_t vio_tell(void* u) { return static_cast<Reader::Memory*>(u)->pos; }
sf_count_t vio_seek(sf_count_t offset, int whence, void* u) {
  auto* m = static_cast<Reader::Memory*>(u);
  const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
  m->pos = std::clamp<sf_count_t>(base + offset, 0, m->size);
  return m->pos;
}
sf_count_t vio_read(void* ptr, sf_count_t count, void* u) {
  auto* m = static_cast<Reader::Memory*>(u);
  const sf_count_t n = std::clamp<sf_count_t>(count, 0, m->size - m->pos);
  std::memcpy(ptr, m->data + m->pos, static_cast<std::size_t>(n));
  m->pos += n;
  return n;
}
sf_count_t vio_write(const void*, sf_count_t, void*) { return 0; }

}  // namespace

Reader::Reader(const std::string& path, bool mono_downmix) : path_(path), mono_(mono_downmix) {
  SF_INFO s;
  init(open_file(path, s), &s);
}

Reader::Reader(const void* data, std::size_t size, const std::string& name, bool mono_downmix)
    : path_(name),
      mono_(mono_downmix),
      memory_(new Memory{static_cast<const unsigned char*>(data), static_cast<sf_count_t>(size)}) {
  static SF_VIRTUAL_IO vio{vio_length, vio_seek, vio_read, vio_write, vio_tell};
  SF_INFO s{};
  SNDFILE* f = sf_open_virtual(&vio, SFM_READ, &s, memory_.get());
  if (f == nullptr) throw AudioError(name, std::string("cannot decode audio: ") + sf_strerror(nullptr));
  init(f, &s);
}

namespace {

// libsndfile opens a WAV whose data chunk runs past the end of the file (an interrupted
// download or copy) and silently reads the shorter audio; its log says "data : N (should be M)".
// We refuse it: a truncated recording would otherwise pass for a short one.
void check_not_truncated(SNDFILE* f, const std::string& path) {
  char log[2048] = {};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
  const char* data = std::strstr(log, "\ndata : ");
  if (data == nullptr) return;
  unsigned long long declared = 0, actual = 0;
  if (std::sscanf(data, "\ndata : %llu (should be %llu)", &declared, &actual) == 2 &&
      declared > actual && declared < 0xfffffff0ull)  // 0xffffffff marks a streamed WAV
    throw AudioError(path, "truncated WAV: the header declares " + std::to_string(declared) +
                               " bytes of audio, the file holds " + std::to_string(actual) +
                               "; re-copy or re-download it");
}

}  // namespace

void Reader::init(void* file, const void* sfinfo) {
  file_ = file;
  try {
    info_ = to_info(path_, *static_cast<const SF_INFO*>(sfinfo));
    check_not_truncated(static_cast<SNDFILE*>(file_), path_);
  } catch (...) {
    sf_close(static_cast<SNDFILE*>(file_));
    file_ = nullptr;
    throw;
  }
}

Reader::~Reader() {
  if (file_) sf_close(static_cast<SNDFILE*>(file_));
}

std::size_t Reader::read(float* out, std::size_t frames) {
  auto* f = static_cast<SNDFILE*>(file_);
  const auto remaining = static_cast<std::size_t>(std::max<std::int64_t>(info_.frames - frames_read_, 0));
  frames = std::min(frames, remaining);
  if (frames == 0) return 0;
  const int ch = info_.channels;
  sf_count_t got;
  if (!mono_ || ch == 1) {
    got = sf_readf_float(f, out, static_cast<sf_count_t>(frames));
  } else {
    interleaved_.resize(frames * static_cast<std::size_t>(ch));
    got = sf_readf_float(f, interleaved_.data(), static_cast<sf_count_t>(frames));
    const float scale = 1.0f / static_cast<float>(ch);
    for (sf_count_t i = 0; i < got; ++i) {
      const float* frame = interleaved_.data() + static_cast<std::size_t>(i) * ch;
      float sum = 0.0f;
      for (int c = 0; c < ch; ++c) sum += frame[c];
      out[i] = sum * scale;
    }
  }
  if (got <= 0) {
    const int err = sf_error(f);
    throw AudioError(path_, "truncated or corrupt audio: header promises " +
                                std::to_string(info_.frames) + " frames, could read " +
                                std::to_string(frames_read_) +
                                (err ? std::string(" (") + sf_strerror(f) + ")" : ""));
  }
  frames_read_ += got;
  return static_cast<std::size_t>(got);
}

std::uint64_t decoded_bytes(const AudioInfo& info, bool mono_downmix) noexcept {
  const auto channels = static_cast<std::uint64_t>(mono_downmix ? 1 : std::max(info.channels, 0));
  const auto frames = static_cast<std::uint64_t>(std::max<std::int64_t>(info.frames, 0));
  // Saturates: a header may claim up to 2^63 frames (see read_all).
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(frames, channels * sizeof(float), &bytes)) return UINT64_MAX;
  return bytes;
}

namespace {

// Decoded samples one byte of input is trusted to hold before any audio is read. Real files stay
// well below it (PCM: 0.25-1, FLAC: ~1-10, Vorbis: ~5-20); a file above it (long digital
// silence in FLAC) still decodes, it only grows its buffer as it goes.
constexpr std::uint64_t kMaxSamplesPerInputByte = 64;

// The header's frame count is a promise, not a fact: FLAC's STREAMINFO holds 36 bits of it, an
// Ogg's last granule position 64. Allocating it up front let a 267-byte FLAC ask for 256 GiB
// (std::bad_alloc, not an AudioError: one bad file ended a whole prepare run), and a promise of a
// few billion frames would be zero-filled, i.e. really taken from RAM. Found by
// fuzz/audio_fuzz.cpp. So the buffer is allocated up front only as far as the input's size
// makes plausible, and beyond that grows with the audio actually decoded; a promise the bytes
// cannot keep ends in read()'s usual "truncated or corrupt" AudioError.
DecodedAudio read_all(Reader& reader, std::uint64_t input_bytes) {
  DecodedAudio out;
  out.info = reader.info();
  const auto ch = static_cast<std::uint64_t>(reader.out_channels());
  const auto frames = static_cast<std::uint64_t>(std::max<std::int64_t>(out.info.frames, 0));
  std::uint64_t promised = 0;  // samples, saturating
  if (__builtin_mul_overflow(frames, ch, &promised)) promised = UINT64_MAX;
  std::uint64_t plausible = 0;
  if (__builtin_mul_overflow(input_bytes, kMaxSamplesPerInputByte, &plausible)) plausible = UINT64_MAX;
  out.samples.resize(static_cast<std::size_t>(std::min(promised, plausible)));
  for (std::uint64_t done = 0; done < frames;) {
    const std::uint64_t block = std::min<std::uint64_t>(kBlockFrames, frames - done);
    const std::uint64_t need = (done + block) * ch;  // done + block <= the real frames + 16384
    if (need > out.samples.size())
      out.samples.resize(static_cast<std::size_t>(
          std::min(promised, std::max<std::uint64_t>(need, 2 * out.samples.size()))));
    done += reader.read(out.samples.data() + done * ch, static_cast<std::size_t>(block));
  }
  return out;
}

}  // namespace

DecodedAudio decode(const std::string& path, bool mono_downmix) {
  Reader reader(path, mono_downmix);
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  return read_all(reader, ec ? 0 : static_cast<std::uint64_t>(size));  // unknown: grow as read
}

DecodedAudio decode_memory(const void* data, std::size_t size, const std::string& name,
                           bool mono_downmix) {
  Reader reader(data, size, name, mono_downmix);
  return read_all(reader, size);
}

}  // namespace cadence::io::audio
