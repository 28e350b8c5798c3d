#include "cadence/io/audio/decoder.h"

#include <sndfile.h>

#include <algorithm>

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

Reader::Reader(const std::string& path, bool mono_downmix) : path_(path), mono_(mono_downmix) {
  SF_INFO s;
  auto* f = open_file(path, s);
  file_ = f;
  try {
    info_ = to_info(path, s);
  } catch (...) {
    sf_close(f);
    throw;
  }
}

Reader::~Reader() { sf_close(static_cast<SNDFILE*>(file_)); }

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
  const auto channels = static_cast<std::uint64_t>(mono_downmix ? 1 : info.channels);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(info.frames, 0)) * channels *
         sizeof(float);
}

DecodedAudio decode(const std::string& path, bool mono_downmix) {
  Reader reader(path, mono_downmix);
  DecodedAudio out;
  out.info = reader.info();
  const auto ch = static_cast<std::size_t>(reader.out_channels());
  const auto frames = static_cast<std::size_t>(out.info.frames);
  out.samples.resize(frames * ch);
  for (std::size_t done = 0; done < frames;)
    done += reader.read(out.samples.data() + done * ch, std::min(kBlockFrames, frames - done));
  return out;
}

}  // namespace cadence::io::audio
