// Our own Standard MIDI File parser: one pass over the bytes, then ticks → seconds through the
// merged tempo map of every track. We parse MIDI ourselves (not via a Python library) because
// drum-label preparation reads tens of thousands of files on all cores with the GIL released,
// and because its labels must keep every tempo change of every track (the seed pipeline kept
// only the first tempo). Note pairing matches pretty_midi, the library the field's tools (Magenta
// note_seq, mirdata) use, so our onsets equal theirs; where pretty_midi silently drops something
// we record a warning instead.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadence::io::midi {

// One sounding note. Times are seconds from the start of the file under the full tempo map.
struct NoteEvent {
  double onset_s = 0;
  double offset_s = 0;
  std::int64_t onset_tick = 0;
  std::int64_t offset_tick = 0;
  std::uint8_t pitch = 0;
  std::uint8_t velocity = 0;  // of the note-on, 1..127
  std::uint8_t channel = 0;   // 0..15 (9 = GM drums)
  std::uint16_t track = 0;    // index among the file's MTrk chunks
};

// A control change (e.g. control 4, the hi-hat pedal position).
struct ControlEvent {
  double time_s = 0;
  std::int64_t tick = 0;
  std::uint8_t channel = 0;
  std::uint8_t control = 0;
  std::uint8_t value = 0;
  std::uint16_t track = 0;
};

// One entry of the effective tempo map: the tempo in force from `tick` on.
struct TempoEvent {
  std::int64_t tick = 0;
  double time_s = 0;
  std::uint32_t us_per_beat = 0;  // microseconds per quarter note
};

struct MidiFile {
  int format = 0;    // 0 or 1
  int n_tracks = 0;  // MTrk chunks (as the header says; all of them were read)
  int ppq = 0;       // ticks per quarter note; 0 when the division is SMPTE
  double smpte_fps = 0;     // frames per second when SMPTE (29.97 for the "29" drop-frame code)
  int ticks_per_frame = 0;  // when SMPTE
  // Sorted by onset_tick (hence onset_s), then pitch, channel, track, offset_tick.
  std::vector<NoteEvent> notes;
  // Sorted by tick; ties keep track order, then file order.
  std::vector<ControlEvent> controls;
  // The effective map: first entry at tick 0 (the default 500,000 µs/beat when the file sets no
  // tempo there), one entry per tick where the tempo changes; events at one tick: the last wins
  // (tracks in order, then file order, as mido's merge does); repeats of the same tempo are
  // dropped. With an SMPTE division tempo events do not affect time; the file's are listed.
  std::vector<TempoEvent> tempos;
  std::int64_t end_tick = 0;  // of the last event of any track (end-of-track included)
  double end_s = 0;
  // Things repaired or skipped, one line each with the track (e.g. notes still sounding at the
  // end of a track, closed there; note-offs without a note-on).
  std::vector<std::string> warnings;
};

// Raised for any input we cannot parse; what() names the file, the byte offset, the track (or
// the header) and what is wrong.
class MidiError : public std::runtime_error {
 public:
  // offset < 0: no position (e.g. the file cannot be opened); track < 0: not inside a track.
  MidiError(const std::string& name, std::int64_t offset, int track, const std::string& reason);
  [[nodiscard]] std::int64_t offset() const noexcept { return offset_; }
  [[nodiscard]] int track() const noexcept { return track_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::int64_t offset_;
  int track_;
  std::string reason_;
};

// Parses a whole SMF held in memory. `name_for_errors` is only used in messages.
// Formats 0 and 1; format 2 and malformed input raise MidiError. Never reads out of bounds.
MidiFile parse_smf(std::span<const std::uint8_t> bytes, const std::string& name_for_errors);

// Reads and parses a file (MIDI files are small: the whole file is read at once).
MidiFile read_smf(const std::string& path);

}  // namespace cadence::io::midi
