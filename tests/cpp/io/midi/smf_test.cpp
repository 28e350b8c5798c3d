// SMF parser: hand-built files with known times, every malformed case, and random mutations.
#include "cadence/io/midi/smf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "test_files.h"

using namespace cadence::io::midi;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put_be(Bytes& out, std::uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_vlq(Bytes& out, std::uint32_t v) {
  Bytes rev{static_cast<std::uint8_t>(v & 0x7F)};
  for (v >>= 7; v; v >>= 7) rev.push_back(static_cast<std::uint8_t>(0x80 | (v & 0x7F)));
  out.insert(out.end(), rev.rbegin(), rev.rend());
}

// A track body: events appended as (delta, raw bytes after the delta).
struct Trk {
  Bytes b;
  Trk& ev(std::uint32_t delta, std::initializer_list<std::uint8_t> bytes) {
    put_vlq(b, delta);
    b.insert(b.end(), bytes);
    return *this;
  }
  Trk& tempo(std::uint32_t delta, std::uint32_t us) {
    return ev(delta, {0xFF, 0x51, 0x03, static_cast<std::uint8_t>(us >> 16),
                      static_cast<std::uint8_t>(us >> 8), static_cast<std::uint8_t>(us)});
  }
  Trk& end(std::uint32_t delta = 0) { return ev(delta, {0xFF, 0x2F, 0x00}); }
  Trk& raw(std::initializer_list<std::uint8_t> bytes) {  // e.g. a malformed delta time
    b.insert(b.end(), bytes);
    return *this;
  }
};

Bytes chunk(const char* id, const Bytes& body) {
  Bytes out(id, id + 4);
  put_be(out, static_cast<std::uint32_t>(body.size()), 4);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes header(int format, int n_tracks, std::uint16_t division) {
  Bytes body;
  put_be(body, static_cast<std::uint32_t>(format), 2);
  put_be(body, static_cast<std::uint32_t>(n_tracks), 2);
  put_be(body, division, 2);
  return chunk("MThd", body);
}

Bytes smf(int format, std::uint16_t division, const std::vector<Trk>& tracks) {
  Bytes out = header(format, static_cast<int>(tracks.size()), division);
  for (const auto& t : tracks) {
    const Bytes c = chunk("MTrk", t.b);
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

MidiFile parse(const Bytes& b) { return parse_smf(b, "test.mid"); }

// Parses bytes that must fail; returns the error for inspection.
MidiError expect_error(const Bytes& b, const std::string& reason_part) {
  try {
    parse(b);
  } catch (const MidiError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("test.mid: byte "), std::string::npos) << what;
    EXPECT_NE(what.find(reason_part), std::string::npos) << what;
    EXPECT_GE(e.offset(), 0);
    EXPECT_LE(e.offset(), static_cast<std::int64_t>(b.size()));
    return e;
  }
  ADD_FAILURE() << "no MidiError for a file expected to mention '" << reason_part << "'";
  return MidiError("test.mid", -1, -1, "none");
}

bool has_warning(const MidiFile& f, const std::string& part) {
  for (const auto& w : f.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(Smf, Format0NotesWithTrueAndVelocityZeroNoteOffs) {
  Trk t;
  t.tempo(0, 500000).ev(0, {0x99, 36, 100}).ev(48, {0x89, 36, 64});
  t.ev(48, {0x99, 38, 90}).ev(48, {0x99, 38, 0}).end(10);
  const auto f = parse(smf(0, 96, {t}));
  EXPECT_EQ(f.format, 0);
  EXPECT_EQ(f.n_tracks, 1);
  EXPECT_EQ(f.ppq, 96);
  ASSERT_EQ(f.notes.size(), 2u);
  EXPECT_EQ(f.notes[0].pitch, 36);
  EXPECT_EQ(f.notes[0].velocity, 100);
  EXPECT_EQ(f.notes[0].channel, 9);
  EXPECT_EQ(f.notes[0].onset_tick, 0);
  EXPECT_EQ(f.notes[0].offset_tick, 48);
  EXPECT_DOUBLE_EQ(f.notes[0].offset_s, 0.25);
  EXPECT_EQ(f.notes[1].pitch, 38);
  EXPECT_DOUBLE_EQ(f.notes[1].onset_s, 0.5);
  EXPECT_DOUBLE_EQ(f.notes[1].offset_s, 0.75);
  EXPECT_EQ(f.end_tick, 154);
  EXPECT_DOUBLE_EQ(f.end_s, 154 * 0.5 / 96);
  EXPECT_TRUE(f.warnings.empty());
}

TEST(Smf, RunningStatusAndTempoChangesInTrackZero) {
  Trk meta, notes;
  meta.tempo(0, 600000).tempo(480, 300000).end();
  notes.ev(0, {0x99, 36, 100}).ev(240, {36, 0}).ev(240, {38, 80}).ev(480, {38, 0});
  notes.ev(0, {0xB9, 4, 127}).ev(10, {4, 0}).end();
  const auto f = parse(smf(1, 480, {meta, notes}));
  ASSERT_EQ(f.notes.size(), 2u);
  EXPECT_DOUBLE_EQ(f.notes[0].offset_s, 0.3);
  EXPECT_DOUBLE_EQ(f.notes[1].onset_s, 0.6);
  EXPECT_DOUBLE_EQ(f.notes[1].offset_s, 0.9);
  EXPECT_EQ(f.notes[1].track, 1);
  ASSERT_EQ(f.controls.size(), 2u);
  EXPECT_EQ(f.controls[1].control, 4);
  EXPECT_EQ(f.controls[1].value, 0);
  EXPECT_EQ(f.controls[1].tick, 970);
  EXPECT_DOUBLE_EQ(f.controls[1].time_s, 0.9 + 10 * 300000 / 480e6);
  ASSERT_EQ(f.tempos.size(), 2u);
  EXPECT_EQ(f.tempos[1].tick, 480);
  EXPECT_DOUBLE_EQ(f.tempos[1].time_s, 0.6);
  EXPECT_TRUE(f.warnings.empty());
}

TEST(Smf, TempoEventsInAnyTrackAreHonoured) {
  Trk meta, notes, late_tempo;
  meta.ev(0, {0xFF, 0x03, 0x01, 'm'}).end();
  notes.ev(0, {0x90, 60, 1}).ev(1920, {0x80, 60, 0}).end();
  late_tempo.tempo(960, 250000).end();
  const auto f = parse(smf(1, 480, {meta, notes, late_tempo}));
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_DOUBLE_EQ(f.notes[0].offset_s, 1.5);  // 960 ticks at 0.5 s/beat, then 960 at 0.25
  ASSERT_EQ(f.tempos.size(), 2u);
  EXPECT_EQ(f.tempos[0].us_per_beat, 500000u);  // the default fills tick 0
  EXPECT_DOUBLE_EQ(f.tempos[1].time_s, 1.0);
}

TEST(Smf, SameTickTemposLastWinsAcrossTracksAndRepeatsCollapse) {
  Trk a, b;
  a.tempo(0, 500000).tempo(480, 400000).tempo(0, 450000).tempo(480, 450000).end();
  b.tempo(480, 800000).tempo(480, 450000).ev(0, {0x90, 60, 9}).ev(480, {0x90, 60, 0}).end();
  const auto f = parse(smf(1, 480, {a, b}));
  // At tick 480: track 1's 800000 comes after track 0's events, so it wins; tick 960's
  // 450000 twice is one change.
  ASSERT_EQ(f.tempos.size(), 3u);
  EXPECT_EQ(f.tempos[1].us_per_beat, 800000u);
  EXPECT_EQ(f.tempos[2].tick, 960);
  EXPECT_EQ(f.tempos[2].us_per_beat, 450000u);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_DOUBLE_EQ(f.notes[0].onset_s, 0.5 + 0.8);
}

TEST(Smf, SmpteDivisionIgnoresTempo) {
  Trk t;
  t.tempo(0, 100000).ev(500, {0x90, 60, 9}).ev(500, {0x80, 60, 0}).end();
  auto f = parse(smf(0, 0xE728, {t}));  // -25 fps, 40 ticks per frame: 1 ms a tick
  EXPECT_EQ(f.ppq, 0);
  EXPECT_EQ(f.ticks_per_frame, 40);
  EXPECT_DOUBLE_EQ(f.smpte_fps, 25.0);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_DOUBLE_EQ(f.notes[0].onset_s, 0.5);
  EXPECT_DOUBLE_EQ(f.notes[0].offset_s, 1.0);
  ASSERT_EQ(f.tempos.size(), 1u);  // listed, not used
  f = parse(smf(0, 0xE302, {t}));  // -29: 30 drop-frame = 30000/1001 fps, 2 ticks per frame
  EXPECT_NEAR(f.smpte_fps, 29.97002997, 1e-8);
  EXPECT_DOUBLE_EQ(f.notes[0].onset_s, 500 * 1001 / 60000.0);
}

TEST(Smf, OverlappingSamePitchPairsAsPrettyMidi) {
  Trk t;
  t.ev(0, {0x99, 36, 10}).ev(10, {0x99, 36, 20}).ev(10, {0x89, 36, 0});  // closes both
  t.ev(10, {0x89, 36, 0});                                               // nothing sounding
  t.ev(10, {0x99, 38, 30}).ev(10, {0x99, 38, 40}).ev(0, {0x99, 38, 0});  // re-strike at 60
  t.ev(10, {0x99, 38, 0});                                               // closes the re-strike
  t.ev(10, {0x99, 40, 50}).ev(0, {0x99, 40, 0});                          // zero length: kept
  t.ev(10, {0x99, 42, 60}).end(100);                                      // never switched off
  const auto f = parse(smf(0, 480, {t}));
  ASSERT_EQ(f.notes.size(), 6u);
  const std::int64_t want[6][3] = {{0, 20, 10}, {10, 20, 20}, {40, 50, 30}, {50, 60, 40},
                                   {70, 70, 50}, {80, 180, 60}};
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(f.notes[i].onset_tick, want[i][0]) << i;
    EXPECT_EQ(f.notes[i].offset_tick, want[i][1]) << i;
    EXPECT_EQ(f.notes[i].velocity, want[i][2]) << i;
  }
  EXPECT_TRUE(has_warning(f, "1 note-offs without a sounding note"));
  EXPECT_TRUE(has_warning(f, "1 zero-length notes"));
  EXPECT_TRUE(has_warning(f, "track 0: 1 notes still sounding at the end of the track (tick 180)"));
}

TEST(Smf, SysexMetaAndUnknownChunksAreSkipped) {
  Trk t;
  t.ev(0, {0xF0, 0x05, 0x7E, 0x7F, 0x09, 0x01, 0xF7}).ev(0, {0xFF, 0x01, 0x03, 'a', 'b', 'c'});
  t.ev(0, {0xFF, 0x7F, 0x02, 0x00, 0x01}).ev(0, {0xF7, 0x02, 0xF8, 0x90});
  t.ev(5, {0x90, 60, 70}).ev(0, {0xFF, 0x06, 0x00}).ev(5, {60, 0});  // running after a meta
  t.ev(0, {0xF8}).end();                                              // stray clock byte
  Bytes b = header(1, 1, 96);
  const Bytes junk = chunk("XFIH", {1, 2, 3, 4}), trk = chunk("MTrk", t.b);
  b.insert(b.end(), junk.begin(), junk.end());
  b.insert(b.end(), trk.begin(), trk.end());
  b.insert(b.end(), {0, 0});
  const auto f = parse(b);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_EQ(f.notes[0].onset_tick, 5);
  EXPECT_EQ(f.notes[0].offset_tick, 10);
  EXPECT_TRUE(has_warning(f, "unknown chunk \"XFIH\""));
  EXPECT_TRUE(has_warning(f, "running status used 1 times after a meta"));
  EXPECT_TRUE(has_warning(f, "1 system messages"));
  EXPECT_TRUE(has_warning(f, "2 bytes after the last track"));
}

TEST(Smf, HugeDeltaTimesStayExact) {
  Trk t;
  t.tempo(0, 0xFFFFFF);
  constexpr int n = 100000;  // ticks × µs exceed int64 by far
  for (int i = 0; i < n; ++i) t.ev(0x0FFFFFFF, {0xB0, 1, 2});
  t.end();
  const auto f = parse(smf(0, 1, {t}));
  const double ticks = static_cast<double>(n) * 0x0FFFFFFF;
  EXPECT_EQ(f.end_tick, static_cast<std::int64_t>(n) * 0x0FFFFFFF);
  EXPECT_NEAR(f.end_s / (ticks * 0xFFFFFF / 1e6), 1.0, 1e-15);
  EXPECT_EQ(f.controls.size(), static_cast<std::size_t>(n));
}

TEST(Smf, MalformedHeadersAreErrorsWithOffsets) {
  expect_error({}, "does not start with \"MThd\"");
  const std::string text = "this is not a MIDI file at all";
  expect_error(Bytes(text.begin(), text.end()), "does not start with \"MThd\"");
  expect_error({'M', 'T', 'h', 'd', 0, 0, 0, 6, 0}, "ends inside the header");
  Bytes short_header = header(0, 1, 96);
  short_header[7] = 5;
  expect_error(short_header, "header chunk length 5");
  Bytes long_header = header(0, 1, 96);
  long_header[7] = 60;
  expect_error(long_header, "runs past the end of the file");
  Trk t;
  t.end();
  EXPECT_EQ(expect_error(smf(0, 0, {t}), "0 ticks per quarter note").offset(), 12);
  EXPECT_EQ(expect_error(smf(1, 0xE800, {t}), "0 ticks per frame").offset(), 13);
  expect_error(smf(1, 0xE928, {t}), "frame-rate code 23");
  auto f2 = smf(1, 96, {t});
  f2[9] = 2;
  const auto e = expect_error(f2, "format 2");
  EXPECT_EQ(e.offset(), 8);
  EXPECT_EQ(e.track(), -1);
  EXPECT_NE(std::string(e.what()).find("(header)"), std::string::npos);
  f2[9] = 7;
  expect_error(f2, "unknown SMF format 7");
  expect_error(header(1, 0, 96), "declares no tracks");
}

TEST(Smf, MalformedTracksAreErrorsNamingTrackAndOffset) {
  Trk good, t;
  good.end();
  const std::size_t track1 = header(1, 2, 96).size() + chunk("MTrk", good.b).size() + 8;
  const auto in_track1 = [&](const Trk& bad, const std::string& reason) {
    const auto e = expect_error(smf(1, 96, {good, bad}), reason);
    EXPECT_EQ(e.track(), 1) << e.what();
    EXPECT_NE(std::string(e.what()).find("(track 1)"), std::string::npos) << e.what();
    EXPECT_GE(e.offset(), static_cast<std::int64_t>(track1) - 4) << e.what();
    return e.offset() - static_cast<std::int64_t>(track1);
  };
  EXPECT_EQ(in_track1(Trk{}.tempo(7, 0), "tempo of 0"), 1);
  in_track1(Trk{}.ev(0, {0xFF, 0x51, 0x02, 1, 2}), "tempo meta event with 2 data bytes");
  EXPECT_EQ(in_track1(Trk{}.raw({0xFF, 0xFF, 0xFF, 0xFF, 0x00}), "longer than 4 bytes"), 0);
  EXPECT_EQ(in_track1(Trk{}.ev(0, {0x90, 60, 0x90}), "where a data byte"), 3);
  in_track1(Trk{}.ev(0, {60, 0}), "no running status in effect");
  in_track1(Trk{}.ev(0, {0xFF, 0x01, 0x40, 'x'}), "runs past the end of the track chunk");
  in_track1(Trk{}.ev(0, {0xF0, 0x40, 'x'}), "sysex event of 64 bytes");
  in_track1(Trk{}.ev(0, {0x90, 60}), "ends inside a note-on");
  in_track1(Trk{}.ev(0, {0x90, 60, 1, 0x81}), "ends inside a delta time");
  in_track1(Trk{}.ev(0, {}), "ends after a delta time");
  in_track1(Trk{}.ev(0, {0xF4}), "undefined status byte 0xF4");
  in_track1(Trk{}.ev(0, {0xFF}), "ends inside a meta event");

}

TEST(Smf, ChunkProblemsAreErrors) {
  Trk t;
  t.ev(0, {0x90, 60, 1}).end(10);
  const Bytes two = smf(1, 96, {t, t});
  const std::size_t second = header(1, 2, 96).size() + chunk("MTrk", t.b).size();
  Bytes past_eof = two;
  past_eof[second + 7] = 200;  // the second chunk's length claims more than the file holds
  auto e = expect_error(past_eof, "chunk length 200 runs past the end of the file");
  EXPECT_EQ(e.offset(), static_cast<std::int64_t>(second + 4));
  EXPECT_EQ(e.track(), 1);
  e = expect_error(Bytes(two.begin(), two.begin() + static_cast<std::ptrdiff_t>(second)),
                   "ends after 1 of 2 tracks");
  EXPECT_EQ(e.offset(), static_cast<std::int64_t>(second));
  expect_error(Bytes(two.begin(), two.begin() + static_cast<std::ptrdiff_t>(second) + 5),
               "ends inside a chunk header");
  Bytes binary_id = two;
  binary_id[second] = 0x00;
  expect_error(binary_id, "expected a chunk header");
  Bytes truncated = two;
  truncated.erase(truncated.end() - 2, truncated.end());
  expect_error(truncated, "chunk length");
}

TEST(Smf, MissingEndOfTrackAndTrailingBytesAreWarnings) {
  Trk t;
  t.ev(0, {0x90, 60, 1}).ev(10, {0x80, 60, 0});
  auto f = parse(smf(0, 96, {t}));
  EXPECT_EQ(f.notes.size(), 1u);
  EXPECT_TRUE(has_warning(f, "no end-of-track event"));
  t.end().ev(0, {0x90, 61, 1});
  f = parse(smf(0, 96, {t}));
  EXPECT_EQ(f.notes.size(), 1u);
  EXPECT_TRUE(has_warning(f, "4 bytes after the end-of-track event ignored"));
}

// Random corruption of a rich valid file must end in a result or a MidiError, never in a crash,
// another exception, or a hang (run under `make sanitize` to catch out-of-bounds reads).
TEST(Smf, RandomMutationsNeverCrash) {
  Trk meta, notes;
  meta.ev(0, {0xFF, 0x03, 0x04, 'm', 'e', 't', 'a'}).tempo(0, 500000).tempo(96, 400000);
  meta.ev(0, {0xFF, 0x58, 0x04, 4, 2, 24, 8}).end(400);
  notes.ev(0, {0xF0, 0x03, 0x43, 0x12, 0xF7}).ev(0, {0x99, 36, 100}).ev(10, {38, 90});
  notes.ev(20, {36, 0}).ev(0, {0xB9, 4, 64}).ev(5, {4, 65}).ev(7, {0x89, 38, 0});
  for (std::uint8_t p = 40; p < 60; ++p) notes.ev(3, {0x99, p, p}).ev(2, {0x89, p, 0});
  notes.tempo(10, 300000).end(50);
  const Bytes valid = smf(1, 96, {meta, notes});
  ASSERT_EQ(parse(valid).notes.size(), 22u);

  std::mt19937 rng(12345);
  int ok = 0, errors = 0;
  const auto attempt = [&](const Bytes& b) {
    try {
      const auto f = parse(b);
      for (const auto& n : f.notes) ASSERT_LE(n.onset_s, n.offset_s);
      ++ok;
    } catch (const MidiError&) {
      ++errors;
    }
  };
  for (std::size_t n = 0; n < valid.size(); ++n) attempt(Bytes(valid.begin(), valid.begin() + n));
  for (int i = 0; i < 5000; ++i) {
    Bytes b = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !b.empty(); ++k) {
      const std::size_t at = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[at] = static_cast<std::uint8_t>(rng()); break;
        case 1: b[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
        case 2: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng())); break;
        default: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
      }
    }
    attempt(b);
  }
  EXPECT_GT(ok, 100);  // both paths were exercised
  EXPECT_GT(errors, 100);
}

TEST(Smf, ReadSmfReadsFilesAndNamesMissingOnes) {
  TempDir dir;
  Trk t;
  t.ev(0, {0x90, 60, 1}).ev(96, {0x80, 60, 0}).end();
  const Bytes b = smf(0, 96, {t});
  const auto path = dir.path("a.mid");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                              static_cast<std::streamsize>(b.size()));
  const auto f = read_smf(path);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_DOUBLE_EQ(f.notes[0].offset_s, 0.5);
  try {
    read_smf(dir.path("missing.mid"));
    FAIL() << "no error";
  } catch (const MidiError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.mid: cannot open"), std::string::npos);
    EXPECT_EQ(e.offset(), -1);
  }
  EXPECT_THROW(read_smf(dir.path("")), MidiError);  // a directory
}
