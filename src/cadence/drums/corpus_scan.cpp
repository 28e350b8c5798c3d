#include "cadence/drums/corpus_scan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "cadence/io/audio/decoder.h"

namespace cadence::drums {

namespace {

struct FileStats {
  bool ok = false;
  std::string error;
  io::audio::AudioInfo info;
  float peak = 0.0f;
  float rms_dbfs = -std::numeric_limits<float>::infinity();
};

void level(const std::vector<float>& x, FileStats& s) {
  double sum_sq = 0.0;  // double: long files sum millions of squares
  float peak = 0.0f;
  for (float v : x) {
    sum_sq += static_cast<double>(v) * v;
    peak = std::max(peak, std::fabs(v));
  }
  s.peak = peak;
  if (!x.empty() && sum_sq > 0.0)
    s.rms_dbfs = static_cast<float>(10.0 * std::log10(sum_sq / static_cast<double>(x.size())));
}

}  // namespace

arrow::ArrayPtr scan_corpus(const std::vector<std::string>& paths, runtime::Job& job) {
  auto& progress = job.progress();
  progress.set_total(static_cast<std::int64_t>(paths.size()));
  auto& files_done = progress.counter("files");
  auto& files_failed = progress.counter("failed");
  auto& audio_ms = progress.counter("audio_ms");
  auto& decode_stage = job.timers().stage("decode");
  auto& stats_stage = job.timers().stage("stats");

  std::vector<FileStats> stats(paths.size());
  job.parallel_for(paths.size(), [&](std::size_t i) {
    FileStats& s = stats[i];
    try {
      const auto info = io::audio::probe(paths[i]);
      // Reserve before decoding: this is what bounds memory when files are huge.
      runtime::Reservation hold(job.budget(), io::audio::decoded_bytes(info),
                                &job.cancellation());
      io::audio::DecodedAudio audio;
      {
        runtime::ScopedStage t(decode_stage);
        audio = io::audio::decode(paths[i]);
      }
      {
        runtime::ScopedStage t(stats_stage);
        level(audio.samples, s);
      }
      s.info = audio.info;
      s.ok = true;
      progress.add(audio_ms, static_cast<std::int64_t>(std::llround(s.info.duration_s() * 1e3)));
    } catch (const io::audio::AudioError& e) {
      s.error = e.what();
      progress.add(files_failed);
    }
    progress.add(files_done);
  });

  const std::size_t n = paths.size();
  std::vector<std::uint8_t> ok(n), error_valid(n);
  std::vector<std::string> errors(n);
  std::vector<std::int32_t> rate(n);
  std::vector<std::int16_t> channels(n);
  std::vector<std::int64_t> frames(n);
  std::vector<double> duration(n);
  std::vector<float> peak(n), rms(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = stats[i];
    ok[i] = s.ok;
    error_valid[i] = !s.ok;
    errors[i] = s.error;
    rate[i] = s.info.sample_rate_hz;
    channels[i] = static_cast<std::int16_t>(s.info.channels);
    frames[i] = s.info.frames;
    duration[i] = s.info.duration_s();
    peak[i] = s.peak;
    rms[i] = s.rms_dbfs;
  }
  return arrow::struct_array({
      {"path", arrow::utf8(paths), false},
      {"ok", arrow::boolean(ok), false},
      {"error", arrow::utf8(errors, error_valid), true},
      {"sample_rate_hz", arrow::primitive(std::move(rate)), false},
      {"channels", arrow::primitive(std::move(channels)), false},
      {"frames", arrow::primitive(std::move(frames)), false},
      {"duration_s", arrow::primitive(std::move(duration)), false},
      {"peak", arrow::primitive(std::move(peak)), false},
      {"rms_dbfs", arrow::primitive(std::move(rms)), false},
  });
}

}  // namespace cadence::drums
