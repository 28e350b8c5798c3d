#include "cadence/drums/audio_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <numeric>

#include "cadence/io/audio/flac_decoder.h"
#include "cadence/kernels/float16.h"
#include "cadence/kernels/resample.h"

namespace cadence::drums {

namespace {

// Per-thread scratch: the compressed bytes of a window and one FLAC decoder, reused.
struct Scratch {
  std::vector<std::uint8_t> bytes;
  std::unique_ptr<io::audio::FlacFrameDecoder> flac;
  io::audio::FlacFrameDecoder& decoder() {
    if (!flac) flac = std::make_unique<io::audio::FlacFrameDecoder>();
    return *flac;
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

std::size_t sample_bytes(Codec c) {
  switch (c) {
    case Codec::Pcm16:
    case Codec::Float16: return 2;
    case Codec::Float32: return 4;
    default: return 0;
  }
}

}  // namespace

AudioStore::AudioStore(std::vector<std::string> blob_paths, std::vector<AudioSource> sources,
                       std::vector<std::uint32_t> frame_offsets)
    : paths_(std::move(blob_paths)), sources_(std::move(sources)), frame_offsets_(std::move(frame_offsets)) {
  std::vector<std::int64_t> sizes;
  for (const auto& p : paths_) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      for (int f : fds_) ::close(f);
      throw StoredAudioError(-1, p + ": cannot open (" + std::strerror(errno) + ")");
    }
    fds_.push_back(fd);
    struct stat st {};
    ::fstat(fd, &st);
    sizes.push_back(st.st_size);
  }
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const auto& s = sources_[i];
    const auto si = static_cast<std::int64_t>(i);
    if (s.blob < 0 || static_cast<std::size_t>(s.blob) >= paths_.size()) fail(si, "no blob file " + std::to_string(s.blob));
    if (s.offset < 0 || s.n_bytes < 0 || s.n_samples < 0 || s.offset + s.n_bytes > sizes[s.blob])
      fail(si, "bytes " + std::to_string(s.offset) + ".." + std::to_string(s.offset + s.n_bytes) +
                   " lie past the end of the file (" + std::to_string(sizes[s.blob]) + " bytes; truncated?)");
    const std::size_t w = sample_bytes(s.codec);
    if (w && static_cast<std::int64_t>(w) * s.n_samples != s.n_bytes)
      fail(si, std::to_string(s.n_bytes) + " bytes cannot hold " + std::to_string(s.n_samples) + " samples of " +
                   codec_name(s.codec));
    if (s.codec == Codec::Flac && s.n_frames > 0) {
      const auto need = (s.n_samples + s.block_size - 1) / std::max<std::int64_t>(s.block_size, 1);
      if (s.block_size == 0 || s.n_frames != need || s.frames_begin < 0 ||
          s.frames_begin + s.n_frames > static_cast<std::int64_t>(frame_offsets_.size()))
        fail(si, "frame table of " + std::to_string(s.n_frames) + " frames does not fit " +
                     std::to_string(s.n_samples) + " samples in blocks of " + std::to_string(s.block_size));
      const std::uint32_t* f = frame_offsets_.data() + s.frames_begin;
      for (std::int64_t k = 0; k < s.n_frames; ++k)
        if ((k > 0 && f[k] <= f[k - 1]) || f[k] >= static_cast<std::uint64_t>(s.n_bytes))
          fail(si, "frame table entry " + std::to_string(k) + " (byte " + std::to_string(f[k]) + ") is out of order or past the audio");
    }
  }
}

AudioStore::~AudioStore() {
  for (int fd : fds_) ::close(fd);
}

void AudioStore::fail(std::int64_t source, const std::string& why) const {
  const std::string where = source >= 0 && static_cast<std::size_t>(source) < sources_.size() &&
                                    static_cast<std::size_t>(sources_[source].blob) < paths_.size()
                                ? paths_[sources_[source].blob] + ": "
                                : std::string();
  throw StoredAudioError(source, where + "stored audio " + std::to_string(source) + ": " + why);
}

void AudioStore::pread_exact(const AudioSource& s, std::int64_t source, std::int64_t from, std::int64_t bytes,
                             void* dst) const {
  auto* p = static_cast<char*>(dst);
  std::int64_t done = 0;
  while (done < bytes) {
    const ssize_t got = ::pread(fds_[s.blob], p + done, static_cast<std::size_t>(bytes - done), s.offset + from + done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail(source, got < 0 ? std::string("read failed: ") + std::strerror(errno) : "file ends early (truncated)");
    done += got;
  }
}

void AudioStore::read(std::int64_t source, std::int64_t start, std::int64_t n, float* out) const {
  if (source < 0 || static_cast<std::size_t>(source) >= sources_.size())
    throw StoredAudioError(source, "stored audio " + std::to_string(source) + " does not exist");
  if (n <= 0) return;
  const AudioSource& s = sources_[source];
  const std::int64_t lo = std::clamp<std::int64_t>(start, 0, s.n_samples);
  const std::int64_t hi = std::clamp<std::int64_t>(start + n, 0, s.n_samples);
  if (hi <= lo) {
    std::fill(out, out + n, 0.0f);
    return;
  }
  std::fill(out, out + (lo - start), 0.0f);
  std::fill(out + (hi - start), out + n, 0.0f);
  float* dst = out + (lo - start);
  const std::int64_t m = hi - lo;
  auto& sc = scratch();
  switch (s.codec) {
    case Codec::Float32: pread_exact(s, source, lo * 4, m * 4, dst); return;
    case Codec::Pcm16:
    case Codec::Float16: {
      sc.bytes.resize(static_cast<std::size_t>(m) * 2);
      pread_exact(s, source, lo * 2, m * 2, sc.bytes.data());
      const auto* x = reinterpret_cast<const std::uint16_t*>(sc.bytes.data());
      if (s.codec == Codec::Float16) {
        for (std::int64_t i = 0; i < m; ++i) dst[i] = kernels::half_to_float(x[i]);
      } else {
        constexpr float kScale = 1.0f / 32768.0f;
        const auto* y = reinterpret_cast<const std::int16_t*>(x);
        for (std::int64_t i = 0; i < m; ++i) dst[i] = static_cast<float>(y[i]) * kScale;
      }
      return;
    }
    case Codec::Flac: {
      std::int64_t from = 0, to = s.n_bytes, first = 0, skip = lo;
      if (s.n_frames > 0) {  // only the frames covering [lo, hi)
        const std::int64_t k0 = lo / s.block_size, k1 = (hi - 1) / s.block_size;
        const std::uint32_t* f = frame_offsets_.data() + s.frames_begin;
        from = f[k0];
        to = k1 + 1 < s.n_frames ? f[k1 + 1] : s.n_bytes;
        first = k0;
        skip = lo - k0 * s.block_size;
      }
      sc.bytes.resize(static_cast<std::size_t>(to - from));
      pread_exact(s, source, from, to - from, sc.bytes.data());
      std::size_t got = 0;
      try {
        got = sc.decoder().decode(sc.bytes.data(), sc.bytes.size(), s.block_size, static_cast<std::uint64_t>(first),
                                  static_cast<std::uint64_t>(skip), static_cast<std::size_t>(m), dst);
      } catch (const io::audio::FlacFrameError& e) {
        fail(source, e.what());
      }
      if (static_cast<std::int64_t>(got) != m)
        fail(source, "FLAC data holds " + std::to_string(got) + " of the " + std::to_string(m) +
                         " samples asked for (truncated or damaged)");
      return;
    }
    case Codec::Auto: break;
  }
  fail(source, "unknown codec");
}

void AudioStore::check(std::int64_t source) const {
  if (source < 0 || static_cast<std::size_t>(source) >= sources_.size())
    throw StoredAudioError(source, "stored audio " + std::to_string(source) + " does not exist");
  const AudioSource& s = sources_[source];
  std::vector<float> out;
  if (s.codec != Codec::Flac || s.n_frames == 0) {
    out.resize(static_cast<std::size_t>(s.n_samples));
    read(source, 0, s.n_samples, out.data());
    return;
  }
  out.resize(s.block_size);
  auto& sc = scratch();
  const std::uint32_t* f = frame_offsets_.data() + s.frames_begin;
  for (std::int64_t k = 0; k < s.n_frames; ++k) {
    const std::int64_t to = k + 1 < s.n_frames ? f[k + 1] : s.n_bytes;
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(s.block_size, s.n_samples - k * s.block_size));
    sc.bytes.resize(static_cast<std::size_t>(to - f[k]));
    pread_exact(s, source, f[k], to - f[k], sc.bytes.data());
    std::size_t got = 0;
    try {
      got = sc.decoder().decode(sc.bytes.data(), sc.bytes.size(), s.block_size, static_cast<std::uint64_t>(k), 0, want,
                                out.data());
    } catch (const io::audio::FlacFrameError& e) {
      fail(source, "frame table entry " + std::to_string(k) + ": " + e.what());
    }
    if (got != want)
      fail(source, "frame table entry " + std::to_string(k) + " (bytes " + std::to_string(f[k]) + ".." +
                       std::to_string(to) + ") holds " + std::to_string(got) + " of its " + std::to_string(want) +
                       " samples: the frame table does not match the audio");
  }
}

void AudioStore::read_resampled(std::int64_t source, std::int64_t start, std::int64_t n, int from_rate_hz,
                                int to_rate_hz, float* out) const {
  if (from_rate_hz <= 0 || to_rate_hz <= 0 || from_rate_hz == to_rate_hz) {
    read(source, start, n, out);
    return;
  }
  // p input samples span exactly q output samples; the segment starts on such a boundary, so
  // output sample j of the segment is output sample (first_group * q + j) of the whole file.
  const std::int64_t g = std::gcd(from_rate_hz, to_rate_hz);
  const std::int64_t p = from_rate_hz / g, q = to_rate_hz / g;
  // Margin for libsoxr's filter (HQ: a few hundred taps at these rates), in whole groups.
  const std::int64_t margin = (2048 + p - 1) / p;
  const auto floor_div = [](std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const std::int64_t first_group = floor_div(start, q) - margin;
  const std::int64_t last_group = floor_div(start + n + q - 1, q) + margin;
  const std::int64_t in_start = first_group * p, in_n = (last_group - first_group) * p;
  thread_local std::vector<float> in;
  in.resize(static_cast<std::size_t>(in_n));
  read(source, in_start, in_n, in.data());
  const std::vector<float> y = kernels::resample(in.data(), in.size(), from_rate_hz, to_rate_hz);
  const std::int64_t skip = start - first_group * q;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t j = skip + i;
    out[i] = j >= 0 && j < static_cast<std::int64_t>(y.size()) ? y[static_cast<std::size_t>(j)] : 0.0f;
  }
  // Past the stored audio the window is silence, as at the stored rate (the filter's ringing
  // around the file's edges is kept only inside the file).
  const std::int64_t n_out = static_cast<std::int64_t>(
      kernels::resampled_length(static_cast<std::size_t>(sources_[source].n_samples), from_rate_hz, to_rate_hz));
  for (std::int64_t i = 0; i < n; ++i)
    if (start + i < 0 || start + i >= n_out) out[i] = 0.0f;
}

void AudioStore::read_batch(const std::int64_t* sources, const std::int64_t* starts, std::size_t count,
                            std::int64_t n, float* out, runtime::Job& job, int from_rate_hz, int to_rate_hz) const {
  auto one = [&](std::size_t i) {
    float* dst = out + i * static_cast<std::size_t>(n);
    if (from_rate_hz == to_rate_hz) read(sources[i], starts[i], n, dst);
    else read_resampled(sources[i], starts[i], n, from_rate_hz, to_rate_hz, dst);
  };
  job.for_each(count, one);
}

}  // namespace cadence::drums
