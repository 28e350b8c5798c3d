#include "cadence/io/midi/smf.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

namespace cadence::io::midi {

namespace {

// Sums of ticks × µs-per-beat overflow int64 only in absurd files (deltas of 2^28 ticks at the
// slowest tempo), but those must still give finite, correct times rather than wrap.
__extension__ typedef __int128 int128;

constexpr std::uint32_t kDefaultTempoUs = 500'000;  // 120 beats per minute (SMF 1.0)
constexpr int kKeys = 16 * 128;                      // (channel, pitch)
constexpr std::uintmax_t kMaxFileBytes = 1u << 30;   // real MIDI files are kilobytes

std::string hex(std::uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

std::string position(std::int64_t offset, int track) {
  if (offset < 0) return "";
  return "byte " + std::to_string(offset) +
         (track < 0 ? " (header)" : " (track " + std::to_string(track) + ")") + ": ";
}

const char* message_name(std::uint8_t status) {
  switch (status >> 4) {
    case 0x8: return "note-off";
    case 0x9: return "note-on";
    case 0xA: return "aftertouch";
    case 0xB: return "control change";
    case 0xC: return "program change";
    case 0xD: return "channel pressure";
    default: return "pitch bend";
  }
}

// Data bytes of the system messages that should not be in a file but that mido accepts; -1 for
// the undefined status bytes, whose length nobody can know.
int system_message_length(std::uint8_t status) {
  switch (status) {
    case 0xF1: case 0xF3: return 1;
    case 0xF2: return 2;
    case 0xF6: case 0xF8: case 0xFA: case 0xFB: case 0xFC: case 0xFE: return 0;
    default: return -1;
  }
}

// Piecewise-linear tick → seconds. seconds = (acc + (tick - start) * rate) / den with exact
// integers, so every time is one correctly rounded division (pretty_midi accumulates floats).
class Clock {
 public:
  explicit Clock(double den) : den_(den) {}
  void add(std::int64_t tick, std::int64_t rate) {
    int128 acc = 0;
    if (!start_.empty()) acc = acc_.back() + static_cast<int128>(tick - start_.back()) * rate_.back();
    start_.push_back(tick);
    rate_.push_back(rate);
    acc_.push_back(acc);
  }
  [[nodiscard]] double seconds(std::int64_t tick) const {
    const auto it = std::upper_bound(start_.begin(), start_.end(), tick);
    const auto i = static_cast<std::size_t>(std::max<std::ptrdiff_t>(it - start_.begin() - 1, 0));
    return static_cast<double>(acc_[i] + static_cast<int128>(tick - start_[i]) * rate_[i]) / den_;
  }

 private:
  double den_;
  std::vector<std::int64_t> start_, rate_;
  std::vector<int128> acc_;
};

class Parser {
 public:
  Parser(std::span<const std::uint8_t> bytes, const std::string& name) : b_(bytes), name_(name) {}

  MidiFile run() {
    out_.notes.reserve(b_.size() / 8);  // a note takes at least 6 bytes (on + off)
    const std::size_t p = parse_header();
    parse_chunks(p);
    finish();
    return std::move(out_);
  }

 private:
  struct OpenNote {
    std::int64_t tick;
    std::uint8_t velocity;
  };
  struct RawTempo {
    std::int64_t tick;
    std::uint32_t us_per_beat;
  };
  struct TrackCounts {  // problems of one track, reported once per track as warnings
    std::int64_t spurious_offs = 0, zero_length = 0, unterminated = 0, running_after_meta = 0,
                 system_messages = 0;
  };

  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    throw MidiError(name_, static_cast<std::int64_t>(offset), track_, what);
  }
  void warn(const std::string& what) {
    out_.warnings.push_back(track_ < 0 ? what : "track " + std::to_string(track_) + ": " + what);
  }
  [[nodiscard]] std::uint32_t be32(std::size_t p) const {
    return std::uint32_t{b_[p]} << 24 | std::uint32_t{b_[p + 1]} << 16 |
           std::uint32_t{b_[p + 2]} << 8 | b_[p + 3];
  }
  [[nodiscard]] unsigned be16(std::size_t p) const { return unsigned{b_[p]} << 8 | b_[p + 1]; }

  // Returns where the first chunk after the header starts.
  std::size_t parse_header() {
    const std::size_t n = b_.size();
    if (n < 4 || std::memcmp(b_.data(), "MThd", 4) != 0)
      fail(0, "not a Standard MIDI File: it does not start with \"MThd\"");
    if (n < 14) fail(n, "the file ends inside the header chunk (" + std::to_string(n) + " bytes)");
    const std::uint32_t length = be32(4);
    if (length < 6) fail(4, "header chunk length " + std::to_string(length) + " is below 6");
    if (length > n - 8)
      fail(4, "header chunk length " + std::to_string(length) + " runs past the end of the file");
    out_.format = static_cast<int>(be16(8));
    out_.n_tracks = static_cast<int>(be16(10));
    if (out_.format == 2)
      fail(8, "format 2 (independent sequences) is not supported; only formats 0 and 1 are");
    if (out_.format > 2) fail(8, "unknown SMF format " + std::to_string(out_.format));
    if (out_.n_tracks == 0) fail(10, "the header declares no tracks");
    if (out_.format == 0 && out_.n_tracks > 1)
      warn("format 0 file declares " + std::to_string(out_.n_tracks) + " tracks; read as format 1");
    const unsigned division = be16(12);
    if (division & 0x8000) {
      // SMPTE: the high byte is minus the frame rate; the low byte counts ticks per frame.
      const int fps_code = -static_cast<int>(static_cast<std::int8_t>(division >> 8));
      if (fps_code != 24 && fps_code != 25 && fps_code != 29 && fps_code != 30)
        fail(12, "SMPTE division with frame-rate code " + std::to_string(fps_code) +
                     " (expected 24, 25, 29 or 30)");
      out_.ticks_per_frame = static_cast<int>(division & 0xFF);
      if (out_.ticks_per_frame == 0) fail(13, "SMPTE division with 0 ticks per frame");
      // Code 29 is "30 drop-frame", whose true rate is 30000/1001 frames per second.
      out_.smpte_fps = fps_code == 29 ? 30000.0 / 1001.0 : fps_code;
      smpte_code_ = fps_code;
    } else {
      out_.ppq = static_cast<int>(division);
      if (out_.ppq == 0) fail(12, "division is 0 ticks per quarter note");
    }
    return 8 + length;
  }

  void parse_chunks(std::size_t p) {
    const std::size_t n = b_.size();
    for (int read = 0; read < out_.n_tracks;) {
      track_ = read;  // an error between chunks belongs to the track we were looking for
      if (p == n)
        fail(p, "the file ends after " + std::to_string(read) + " of " +
                    std::to_string(out_.n_tracks) + " tracks (truncated?)");
      if (n - p < 8) fail(p, "the file ends inside a chunk header (truncated?)");
      const std::uint32_t length = be32(p + 4);
      if (length > n - p - 8)
        fail(p + 4, "chunk length " + std::to_string(length) + " runs past the end of the file (" +
                        std::to_string(n - p - 8) + " bytes left; truncated?)");
      const std::string id(reinterpret_cast<const char*>(b_.data() + p), 4);
      if (id == "MTrk") {
        parse_track(p + 8, p + 8 + length);
        ++read;
      } else if (std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
        track_ = -1;
        warn("unknown chunk \"" + id + "\" (" + std::to_string(length) + " bytes) at byte " +
             std::to_string(p) + " skipped");
      } else {
        fail(p, "expected a chunk header such as \"MTrk\", found bytes " + hex(b_[p]) + " " +
                    hex(b_[p + 1]) + " " + hex(b_[p + 2]) + " " + hex(b_[p + 3]));
      }
      p += 8 + length;
    }
    track_ = -1;
    if (p < n) warn(std::to_string(n - p) + " bytes after the last track ignored");
  }

  std::uint32_t read_vlq(std::size_t& p, std::size_t end, const char* what) {
    const std::size_t start = p;
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      if (p >= end) fail(p, std::string("the track chunk ends inside a ") + what);
      const std::uint8_t c = b_[p++];
      value = value << 7 | (c & 0x7Fu);
      if (!(c & 0x80)) return value;
    }
    fail(start, std::string(what) + " longer than 4 bytes (at most 0x0FFFFFFF)");
  }

  void parse_track(std::size_t p, const std::size_t end) {
    std::int64_t tick = 0;
    std::uint8_t running = 0;  // last channel status; 0 = none yet
    bool after_meta = false;   // a meta or sysex event came after the last channel status
    bool ended = false;
    counts_ = TrackCounts{};
    while (p < end) {
      tick += read_vlq(p, end, "delta time");
      if (p >= end) fail(p, "the track chunk ends after a delta time, inside an event");
      const std::size_t at = p;
      std::uint8_t status = b_[p];
      if (status < 0x80) {  // running status: this is already the first data byte
        if (running == 0)
          fail(at, "data byte " + hex(status) +
                       " where a status byte was expected (no running status in effect)");
        // SMF 1.0 says meta and sysex events cancel running status, but writers rely on it
        // anyway and mido accepts it; reading on is the useful choice, and it is reported.
        if (after_meta) ++counts_.running_after_meta;
        status = running;
      } else {
        ++p;
      }
      if (status < 0xF0) {
        channel_message(status, p, end, tick);
        running = status;
        after_meta = false;
      } else if (status == 0xFF) {
        if (p >= end) fail(at, "the track chunk ends inside a meta event");
        const std::uint8_t type = b_[p++];
        const std::uint32_t length = read_vlq(p, end, "meta event length");
        if (length > end - p)
          fail(at, "meta event " + hex(type) + " of " + std::to_string(length) +
                       " bytes runs past the end of the track chunk");
        if (type == 0x51) tempo(at, p, length, tick);
        p += length;
        after_meta = true;
        if (type == 0x2F) {
          ended = true;
          break;
        }
      } else if (status == 0xF0 || status == 0xF7) {
        const std::uint32_t length = read_vlq(p, end, "sysex length");
        if (length > end - p)
          fail(at, "sysex event of " + std::to_string(length) +
                       " bytes runs past the end of the track chunk");
        p += length;
        after_meta = true;
      } else {
        const int length = system_message_length(status);
        if (length < 0) fail(at, "undefined status byte " + hex(status));
        if (static_cast<std::size_t>(length) > end - p)
          fail(at, "the track chunk ends inside system message " + hex(status));
        p += static_cast<std::size_t>(length);
        ++counts_.system_messages;
      }
    }
    if (!ended) warn("no end-of-track event; the track ends with its chunk");
    if (p < end) warn(std::to_string(end - p) + " bytes after the end-of-track event ignored");
    close_open_notes(tick);
    report_counts(tick);
    out_.end_tick = std::max(out_.end_tick, tick);
  }

  void channel_message(std::uint8_t status, std::size_t& p, std::size_t end, std::int64_t tick) {
    const unsigned kind = status >> 4;
    const std::size_t n_data = (kind == 0xC || kind == 0xD) ? 1 : 2;
    if (n_data > end - p)
      fail(p, std::string("the track chunk ends inside a ") + message_name(status) + " message");
    for (std::size_t i = 0; i < n_data; ++i)
      if (b_[p + i] & 0x80)
        fail(p + i, "byte " + hex(b_[p + i]) + " where a data byte (< 0x80) of a " +
                        message_name(status) + " message was expected");
    const std::uint8_t channel = status & 0x0F, d0 = b_[p], d1 = n_data == 2 ? b_[p + 1] : 0;
    p += n_data;
    if (kind == 0x9 && d1 > 0) {
      auto& open = open_[channel * 128 + d0];
      if (open.empty()) touched_.push_back(static_cast<std::uint16_t>(channel * 128 + d0));
      open.push_back({tick, d1});
    } else if (kind == 0x8 || kind == 0x9) {
      note_off(channel, d0, tick);
    } else if (kind == 0xB) {
      out_.controls.push_back({0, tick, channel, d0, d1, static_cast<std::uint16_t>(track_)});
    }
  }

  // pretty_midi's pairing: a note-off closes every sounding note of its (channel, pitch) begun
  // before this tick. Notes begun at this very tick stay open if it closed anything (a re-strike
  // written on-then-off); otherwise they are zero-length notes. pretty_midi drops those; we keep
  // them (offset = onset) and count them in the warnings, because for drums the onset is the
  // event: a hit written note-on/note-off on one tick is still a hit.
  void note_off(std::uint8_t channel, std::uint8_t pitch, std::int64_t tick) {
    auto& open = open_[channel * 128 + pitch];
    if (open.empty()) {
      ++counts_.spurious_offs;
      return;
    }
    std::size_t kept = 0;
    for (const OpenNote& o : open) {
      if (o.tick != tick)
        emit(o, tick, channel, pitch);
      else
        open[kept++] = o;
    }
    if (kept == open.size()) {
      counts_.zero_length += static_cast<std::int64_t>(kept);
      for (const OpenNote& o : open) emit(o, tick, channel, pitch);
      open.clear();
    } else {
      open.resize(kept);
    }
  }

  void emit(const OpenNote& o, std::int64_t off_tick, std::uint8_t channel, std::uint8_t pitch) {
    out_.notes.push_back(
        {0, 0, o.tick, off_tick, pitch, o.velocity, channel, static_cast<std::uint16_t>(track_)});
  }

  // pretty_midi drops notes never switched off; we keep them, ending at the end of the track.
  void close_open_notes(std::int64_t end_tick) {
    for (const std::uint16_t key : touched_) {
      for (const OpenNote& o : open_[key]) emit(o, end_tick, key >> 7, key & 0x7F);
      counts_.unterminated += static_cast<std::int64_t>(open_[key].size());
      open_[key].clear();
    }
    touched_.clear();
  }

  void tempo(std::size_t at, std::size_t p, std::uint32_t length, std::int64_t tick) {
    if (length != 3)
      fail(at, "tempo meta event with " + std::to_string(length) + " data bytes (expected 3)");
    const std::uint32_t us = std::uint32_t{b_[p]} << 16 | std::uint32_t{b_[p + 1]} << 8 | b_[p + 2];
    if (us == 0) fail(at, "tempo of 0 microseconds per quarter note");
    raw_tempos_.push_back({tick, us});
  }

  void report_counts(std::int64_t end_tick) {
    const auto& c = counts_;
    if (c.unterminated)
      warn(std::to_string(c.unterminated) + " notes still sounding at the end of the track (tick " +
           std::to_string(end_tick) + ") were closed there");
    if (c.spurious_offs)
      warn(std::to_string(c.spurious_offs) + " note-offs without a sounding note ignored");
    if (c.zero_length)
      warn(std::to_string(c.zero_length) +
           " zero-length notes (note-off at the onset tick) kept with offset = onset; pretty_midi drops them");
    if (c.running_after_meta)
      warn("running status used " + std::to_string(c.running_after_meta) +
           " times after a meta or sysex event (SMF 1.0 forbids it; read on as mido does)");
    if (c.system_messages)
      warn(std::to_string(c.system_messages) +
           " system messages (0xF1-0xFE, not allowed in a file) skipped");
  }

  // Tempo map from all tracks, then every tick converted to seconds.
  void finish() {
    // Tracks were read in order and ticks never decrease within one, so a stable sort by tick
    // orders same-tick events by track, then by position: the last one is the one that wins.
    std::stable_sort(raw_tempos_.begin(), raw_tempos_.end(),
                     [](const RawTempo& a, const RawTempo& b) { return a.tick < b.tick; });
    auto& map = out_.tempos;
    if (out_.ppq > 0) map.push_back({0, 0, kDefaultTempoUs});
    for (const RawTempo& t : raw_tempos_) {
      if (!map.empty() && map.back().tick == t.tick)
        map.back().us_per_beat = t.us_per_beat;
      else
        map.push_back({t.tick, 0, t.us_per_beat});
    }
    std::size_t kept = 0;  // drop entries that do not change the tempo
    for (std::size_t i = 0; i < map.size(); ++i)
      if (kept == 0 || map[i].us_per_beat != map[kept - 1].us_per_beat) map[kept++] = map[i];
    map.resize(kept);

    Clock clock = make_clock();
    for (auto& t : map) t.time_s = clock.seconds(t.tick);
    for (auto& n : out_.notes) {
      n.onset_s = clock.seconds(n.onset_tick);
      n.offset_s = clock.seconds(n.offset_tick);
    }
    for (auto& c : out_.controls) c.time_s = clock.seconds(c.tick);
    out_.end_s = clock.seconds(out_.end_tick);

    std::sort(out_.notes.begin(), out_.notes.end(), [](const NoteEvent& a, const NoteEvent& b) {
      if (a.onset_tick != b.onset_tick) return a.onset_tick < b.onset_tick;
      if (a.pitch != b.pitch) return a.pitch < b.pitch;
      if (a.channel != b.channel) return a.channel < b.channel;
      if (a.track != b.track) return a.track < b.track;
      if (a.offset_tick != b.offset_tick) return a.offset_tick < b.offset_tick;
      return a.velocity < b.velocity;
    });
    std::stable_sort(out_.controls.begin(), out_.controls.end(),
                     [](const ControlEvent& a, const ControlEvent& b) { return a.tick < b.tick; });
  }

  [[nodiscard]] Clock make_clock() const {
    if (out_.ppq == 0) {  // SMPTE: ticks are a fixed fraction of a second; tempo is irrelevant
      const bool drop_frame = smpte_code_ == 29;
      Clock clock(static_cast<double>(drop_frame ? 30000 : smpte_code_) * out_.ticks_per_frame);
      clock.add(0, drop_frame ? 1001 : 1);
      return clock;
    }
    Clock clock(static_cast<double>(out_.ppq) * 1e6);
    for (const TempoEvent& t : out_.tempos) clock.add(t.tick, t.us_per_beat);
    return clock;
  }

  std::span<const std::uint8_t> b_;
  const std::string& name_;
  MidiFile out_;
  int track_ = -1;  // index of the MTrk chunk being read, -1 in the header
  int smpte_code_ = 0;
  std::vector<std::vector<OpenNote>> open_ = std::vector<std::vector<OpenNote>>(kKeys);
  std::vector<std::uint16_t> touched_;  // keys that have had open notes in this track
  std::vector<RawTempo> raw_tempos_;
  TrackCounts counts_;
};

}  // namespace

MidiError::MidiError(const std::string& name, std::int64_t offset, int track,
                     const std::string& reason)
    : std::runtime_error(name + ": " + position(offset, track) + reason),
      offset_(offset),
      track_(track),
      reason_(reason) {}

MidiFile parse_smf(std::span<const std::uint8_t> bytes, const std::string& name_for_errors) {
  return Parser(bytes, name_for_errors).run();
}

MidiFile read_smf(const std::string& path) {
  const auto io_error = [&](const std::string& what) {
    return MidiError(path, -1, -1, what + ": " + std::generic_category().message(errno));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw io_error("cannot open");
  std::error_code ec;
  const auto size_hint = std::filesystem::file_size(path, ec);
  std::vector<std::uint8_t> bytes;
  if (!ec) bytes.reserve(static_cast<std::size_t>(std::min(size_hint, kMaxFileBytes)));
  std::uint8_t block[1 << 16];
  while (true) {
    const std::size_t got = std::fread(block, 1, sizeof block, f.get());
    bytes.insert(bytes.end(), block, block + got);
    if (bytes.size() > kMaxFileBytes)
      throw MidiError(path, -1, -1, "larger than 1 GiB: not a MIDI file");
    if (got < sizeof block) break;
  }
  if (std::ferror(f.get())) throw io_error("read error");
  return parse_smf(bytes, path);
}

}  // namespace cadence::io::midi
