// The SMF parser for Python: parsing and the split into numpy columns run with the GIL released;
// each column's vector is handed to numpy with an owner capsule (no copy at the border).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <span>
#include <utility>

#include "cadence/io/midi/smf.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
namespace midi = cadence::io::midi;

namespace cadence::bindings {

namespace {

// Struct-of-arrays view of a parsed file, built without the GIL.
struct Columns {
  midi::MidiFile file;
  std::vector<double> onset_s, offset_s;
  std::vector<std::int64_t> onset_tick, offset_tick;
  std::vector<std::uint8_t> pitch, velocity, channel;
  std::vector<std::uint16_t> track;
  std::vector<std::int64_t> tempo_tick;
  std::vector<double> tempo_s;
  std::vector<std::uint32_t> us_per_beat;
  std::vector<double> control_s;
  std::vector<std::int64_t> control_tick;
  std::vector<std::uint8_t> control_channel, control_number, control_value;
  std::vector<std::uint16_t> control_track;

  explicit Columns(midi::MidiFile&& f) : file(std::move(f)) {
    const std::size_t n = file.notes.size(), nc = file.controls.size();
    for (auto* v : {&onset_s, &offset_s}) v->reserve(n);
    for (auto* v : {&onset_tick, &offset_tick}) v->reserve(n);
    for (auto* v : {&pitch, &velocity, &channel}) v->reserve(n);
    track.reserve(n);
    control_s.reserve(nc);
    control_tick.reserve(nc);
    for (auto* v : {&control_channel, &control_number, &control_value}) v->reserve(nc);
    control_track.reserve(nc);
    for (const auto& n : file.notes) {
      onset_s.push_back(n.onset_s);
      offset_s.push_back(n.offset_s);
      onset_tick.push_back(n.onset_tick);
      offset_tick.push_back(n.offset_tick);
      pitch.push_back(n.pitch);
      velocity.push_back(n.velocity);
      channel.push_back(n.channel);
      track.push_back(n.track);
    }
    for (const auto& t : file.tempos) {
      tempo_tick.push_back(t.tick);
      tempo_s.push_back(t.time_s);
      us_per_beat.push_back(t.us_per_beat);
    }
    for (const auto& c : file.controls) {
      control_s.push_back(c.time_s);
      control_tick.push_back(c.tick);
      control_channel.push_back(c.channel);
      control_number.push_back(c.control);
      control_value.push_back(c.value);
      control_track.push_back(c.track);
    }
  }
};


nb::dict to_dict(Columns& c) {
  nb::dict notes, tempos, controls, out;
  notes["onset_s"] = to_numpy(std::move(c.onset_s));
  notes["offset_s"] = to_numpy(std::move(c.offset_s));
  notes["onset_tick"] = to_numpy(std::move(c.onset_tick));
  notes["offset_tick"] = to_numpy(std::move(c.offset_tick));
  notes["pitch"] = to_numpy(std::move(c.pitch));
  notes["velocity"] = to_numpy(std::move(c.velocity));
  notes["channel"] = to_numpy(std::move(c.channel));
  notes["track"] = to_numpy(std::move(c.track));
  tempos["tick"] = to_numpy(std::move(c.tempo_tick));
  tempos["time_s"] = to_numpy(std::move(c.tempo_s));
  tempos["us_per_beat"] = to_numpy(std::move(c.us_per_beat));
  controls["time_s"] = to_numpy(std::move(c.control_s));
  controls["tick"] = to_numpy(std::move(c.control_tick));
  controls["channel"] = to_numpy(std::move(c.control_channel));
  controls["control"] = to_numpy(std::move(c.control_number));
  controls["value"] = to_numpy(std::move(c.control_value));
  controls["track"] = to_numpy(std::move(c.control_track));
  const auto& f = c.file;
  out["notes"] = notes;
  out["tempos"] = tempos;
  out["controls"] = controls;
  out["format"] = f.format;
  out["n_tracks"] = f.n_tracks;
  out["ppq"] = f.ppq;
  out["smpte_fps"] = f.smpte_fps;
  out["ticks_per_frame"] = f.ticks_per_frame;
  out["end_tick"] = f.end_tick;
  out["end_s"] = f.end_s;
  out["warnings"] = f.warnings;
  return out;
}

}  // namespace

void register_midi(nb::module_& m) {
  nb::exception<midi::MidiError>(m, "MidiError", PyExc_ValueError);

  m.def(
      "midi_read",
      [](const std::string& path) {
        std::optional<Columns> columns;
        {
          nb::gil_scoped_release unlocked;
          columns.emplace(midi::read_smf(path));
        }
        return to_dict(*columns);
      },
      nb::arg("path"),
      "Parse a Standard MIDI File (format 0 or 1). Returns a dict: notes, tempos and controls "
      "(dicts of 1-D arrays), format, n_tracks, ppq, smpte_fps, ticks_per_frame, end_tick, end_s, "
      "warnings. Raises MidiError naming the file, byte offset and track.");

  m.def(
      "midi_parse",
      [](nb::bytes data, const std::string& name) {
        std::optional<Columns> columns;
        {
          // The bytes object is immutable and `data` holds a reference: safe without the GIL.
          const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(data.c_str()),
                                                   data.size());
          nb::gil_scoped_release unlocked;
          columns.emplace(midi::parse_smf(view, name));
        }
        return to_dict(*columns);
      },
      nb::arg("data"), nb::arg("name") = "<bytes>",
      "Like midi_read, for a file already in memory; `name` is used in error messages.");
}

}  // namespace cadence::bindings
