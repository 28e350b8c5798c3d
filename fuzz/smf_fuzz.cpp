// libFuzzer target: parse_smf on arbitrary bytes. Any input must either parse into a MidiFile
// that keeps the header's promises (sorted notes, onset <= offset, finite times, a tempo map
// starting at tick 0) or raise MidiError naming the file; anything else (another exception, a
// sanitizer report, a hang) is a bug.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "cadence/io/midi/smf.h"

#include "check.h"

namespace midi = cadence::io::midi;

namespace {

void check(const midi::MidiFile& f) {
  CHECK(f.format == 0 || f.format == 1);
  CHECK(f.n_tracks >= 1);
  CHECK((f.ppq > 0) != (f.smpte_fps > 0));
  CHECK(!f.tempos.empty() || f.ppq == 0);
  if (f.ppq > 0) CHECK(f.tempos.front().tick == 0);
  for (std::size_t i = 0; i < f.tempos.size(); ++i) {
    CHECK(f.tempos[i].us_per_beat > 0);
    CHECK(std::isfinite(f.tempos[i].time_s) && f.tempos[i].time_s >= 0);
    if (i > 0) {
      CHECK(f.tempos[i].tick > f.tempos[i - 1].tick);
      CHECK(f.tempos[i].time_s >= f.tempos[i - 1].time_s);
      if (f.ppq > 0) CHECK(f.tempos[i].us_per_beat != f.tempos[i - 1].us_per_beat);
    }
  }
  CHECK(f.end_tick >= 0 && std::isfinite(f.end_s) && f.end_s >= 0);
  for (std::size_t i = 0; i < f.notes.size(); ++i) {
    const auto& n = f.notes[i];
    CHECK(n.pitch < 128 && n.velocity >= 1 && n.velocity < 128 && n.channel < 16);
    CHECK(n.track < f.n_tracks);
    CHECK(0 <= n.onset_tick && n.onset_tick <= n.offset_tick && n.offset_tick <= f.end_tick);
    CHECK(std::isfinite(n.onset_s) && std::isfinite(n.offset_s));
    CHECK(0 <= n.onset_s && n.onset_s <= n.offset_s && n.offset_s <= f.end_s);
    if (i > 0) {
      CHECK(f.notes[i - 1].onset_tick <= n.onset_tick);
      CHECK(f.notes[i - 1].onset_s <= n.onset_s);
    }
  }
  for (std::size_t i = 0; i < f.controls.size(); ++i) {
    const auto& c = f.controls[i];
    CHECK(c.channel < 16 && c.control < 128 && c.value < 128 && c.track < f.n_tracks);
    CHECK(0 <= c.tick && c.tick <= f.end_tick && std::isfinite(c.time_s) && c.time_s <= f.end_s);
    if (i > 0) CHECK(f.controls[i - 1].tick <= c.tick);
  }
  for (const auto& w : f.warnings) CHECK(!w.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string name = "fuzz.mid";
  try {
    check(midi::parse_smf(std::span<const std::uint8_t>(data, size), name));
  } catch (const midi::MidiError& e) {
    // Errors name the file and say what is wrong.
    CHECK(std::string(e.what()).rfind(name + ": ", 0) == 0);
    CHECK(!e.reason().empty());
    CHECK(e.offset() <= static_cast<std::int64_t>(size));
  }
  return 0;
}
