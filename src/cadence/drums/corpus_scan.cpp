#include "cadence/drums/corpus_scan.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "cadence/io/audio/decoder.h"
#include "cadence/io/zip/archive.h"

namespace cadence::drums {

namespace {

struct FileStats {
  bool ok = false;
  std::string error;
  io::audio::AudioInfo info;
  float peak = 0.0f;
  float rms_dbfs = -std::numeric_limits<float>::infinity();
};

// Peak and sum of squares of a block, in 8 independent lanes: the lanes break the loop-carried
// dependency so the compiler vectorises it (a plain reduction would not be, without fast-math).
// Squares are summed in double, so hours of audio lose no precision.
void accumulate(const float* x, std::size_t n, double& sum_sq, float& peak) {
  constexpr std::size_t kLanes = 8;
  double acc[kLanes] = {};
  float top[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t k = 0; k < kLanes; ++k) {
      const float v = x[i + k];
      acc[k] += static_cast<double>(v) * v;
      top[k] = std::max(top[k], std::fabs(v));
    }
  for (; i < n; ++i) {
    acc[0] += static_cast<double>(x[i]) * x[i];
    top[0] = std::max(top[0], std::fabs(x[i]));
  }
  for (std::size_t k = 0; k < kLanes; ++k) {
    sum_sq += acc[k];
    peak = std::max(peak, top[k]);
  }
}

// Streams the file in blocks: a scan never holds a whole file, so it runs at decode speed with
// a few hundred KiB per worker, whatever the file length.
void scan_reader(io::audio::Reader& reader, std::vector<float>& block, FileStats& s) {
  double sum_sq = 0.0;
  float peak = 0.0f;
  std::int64_t n = 0;
  for (std::size_t got; (got = reader.read(block.data(), block.size())) > 0;) {
    accumulate(block.data(), got, sum_sq, peak);
    n += static_cast<std::int64_t>(got);
  }
  s.info = reader.info();
  s.peak = peak;
  if (n > 0 && sum_sq > 0.0)
    s.rms_dbfs = static_cast<float>(10.0 * std::log10(sum_sq / static_cast<double>(n)));
}

constexpr std::size_t kBlockFrames = 1 << 16;

}  // namespace

arrow::ArrayPtr scan_corpus(const std::vector<std::string>& paths, runtime::Job& job,
                            const std::string& archive_path) {
  auto& progress = job.progress();
  progress.set_total(static_cast<std::int64_t>(paths.size()));
  auto& files_done = progress.counter("files");
  auto& files_failed = progress.counter("failed");
  auto& audio_ms = progress.counter("audio_ms");
  auto& decode_stage = job.timers().stage("decode+stats");

  std::vector<FileStats> stats(paths.size());
  job.parallel_for(paths.size(), [&](std::size_t i) {
    FileStats& s = stats[i];
    try {
      thread_local std::vector<float> block(kBlockFrames);
      if (archive_path.empty()) {
        runtime::Reservation hold(job.budget(), kBlockFrames * sizeof(float), &job.cancellation());
        runtime::ScopedStage t(decode_stage);
        io::audio::Reader reader(paths[i]);
        scan_reader(reader, block, s);
      } else {
        // One handle per worker (libzip's are not thread-safe), kept for the next member.
        thread_local std::unique_ptr<io::zip::Archive> archive;
        if (!archive || archive->path() != archive_path) archive = std::make_unique<io::zip::Archive>(archive_path);
        const auto member = archive->stat(paths[i]);
        const std::string name = archive_path + ":" + paths[i];
        if (!member) throw io::zip::ZipError(io::zip::ZipFault::Missing, name + ": member not found in the archive");
        const std::uint64_t max = job.budget().limit_bytes() ? job.budget().limit_bytes()
                                                              : std::numeric_limits<std::uint64_t>::max();
        // The block and the member's bytes in one request: two, made one after the other, could
        // wait forever on the worker's own first one. Above the limit, read() refuses the member.
        const std::uint64_t member_bytes = member->size <= max ? member->read_bytes() : 0;
        runtime::Reservation hold(job.budget(), kBlockFrames * sizeof(float) + member_bytes, &job.cancellation());
        runtime::ScopedStage t(decode_stage);
        const auto bytes = archive->read(*member, paths[i], max);
        io::audio::Reader reader(bytes.data(), bytes.size(), name);
        scan_reader(reader, block, s);
      }
      s.ok = true;
      progress.add(audio_ms, static_cast<std::int64_t>(std::llround(s.info.duration_s() * 1e3)));
    } catch (const io::audio::AudioError& e) {
      s.error = e.what();
      progress.add(files_failed);
    } catch (const io::zip::ZipError& e) {
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
