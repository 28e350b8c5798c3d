#include "cadence/io/audio/decoder.h"

#include <sndfile.h>

#include <algorithm>
#include <memory>

namespace cadence::io::audio {

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const noexcept { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

std::string format_name(int format, int command) {
  SF_FORMAT_INFO info{};
  info.format = format;
  if (sf_command(nullptr, command, &info, sizeof(info)) != 0 || info.name == nullptr)
    return "unknown";
  return info.name;
}

SndfilePtr open(const std::string& path, SF_INFO& sfinfo) {
  sfinfo = SF_INFO{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &sfinfo);
  if (f == nullptr) throw AudioError(path, std::string("cannot open audio: ") + sf_strerror(nullptr));
  return SndfilePtr(f);
}

AudioInfo to_info(const std::string& path, const SF_INFO& s) {
  if (s.samplerate <= 0) throw AudioError(path, "invalid sample rate in header");
  if (s.channels <= 0) throw AudioError(path, "invalid channel count in header");
  AudioInfo info;
  info.frames = s.frames;
  info.sample_rate_hz = s.samplerate;
  info.channels = s.channels;
  info.container = format_name(s.format & SF_FORMAT_TYPEMASK, SFC_GET_FORMAT_INFO);
  info.encoding = format_name(s.format & SF_FORMAT_SUBMASK, SFC_GET_FORMAT_INFO);
  return info;
}

}  // namespace

AudioInfo probe(const std::string& path) {
  SF_INFO s;
  auto f = open(path, s);
  return to_info(path, s);
}

std::uint64_t decoded_bytes(const AudioInfo& info, bool mono_downmix) noexcept {
  const auto channels = static_cast<std::uint64_t>(mono_downmix ? 1 : info.channels);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(info.frames, 0)) * channels *
         sizeof(float);
}

DecodedAudio decode(const std::string& path, bool mono_downmix) {
  SF_INFO s;
  auto f = open(path, s);
  DecodedAudio out;
  out.info = to_info(path, s);
  const int ch = out.info.channels;
  const auto frames = static_cast<std::size_t>(out.info.frames);
  out.samples.resize(mono_downmix ? frames : frames * static_cast<std::size_t>(ch));

  constexpr std::size_t kBlockFrames = 16384;
  std::vector<float> block(mono_downmix && ch > 1 ? kBlockFrames * static_cast<std::size_t>(ch) : 0);
  std::size_t done = 0;
  while (done < frames) {
    const std::size_t want = std::min(kBlockFrames, frames - done);
    sf_count_t got;
    if (!mono_downmix || ch == 1) {
      got = sf_readf_float(f.get(), out.samples.data() + done * (mono_downmix ? 1 : ch),
                           static_cast<sf_count_t>(want));
    } else {
      got = sf_readf_float(f.get(), block.data(), static_cast<sf_count_t>(want));
      const float scale = 1.0f / static_cast<float>(ch);
      for (sf_count_t i = 0; i < got; ++i) {
        float sum = 0.0f;
        for (int c = 0; c < ch; ++c) sum += block[static_cast<std::size_t>(i) * ch + c];
        out.samples[done + static_cast<std::size_t>(i)] = sum * scale;
      }
    }
    if (got <= 0) {
      const int err = sf_error(f.get());
      throw AudioError(path, "truncated or corrupt audio: header promises " +
                                 std::to_string(frames) + " frames, could read " +
                                 std::to_string(done) +
                                 (err ? std::string(" (") + sf_strerror(f.get()) + ")" : ""));
    }
    done += static_cast<std::size_t>(got);
  }
  return out;
}

}  // namespace cadence::io::audio
