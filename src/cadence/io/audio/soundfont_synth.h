// Rendering MIDI note events through a SoundFont 2 drum kit, for the sample corpus
// (`cadence sample drums`): TinySoundFont (vendor/tsf, MIT) inside the engine, so the sample needs
// no fluidsynth program and no package with native dependencies of its own.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadence::io::audio {

// One MIDI event at an output sample. kind: note off (a = key), control change (a = controller,
// b = value) or note on (a = key, b = velocity 1-127). Sorting by (sample, kind) puts note-offs
// before control changes before note-ons at the same sample, as a MIDI file orders them.
struct SynthEvent {
  enum Kind : std::int32_t { NoteOff = 0, Control = 1, NoteOn = 2 };
  std::int64_t sample = 0;
  std::int32_t kind = NoteOn;
  std::int32_t a = 0;
  std::int32_t b = 0;
};

struct SoundFontError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Renders `events` (any order; sorted here) on one MIDI channel set to drum kit `program` of bank
// 128, to n_samples stereo frames (float32, L/R interleaved, 2 * n_samples values). The synth is
// advanced to each event's sample and the event applied there, so onsets are sample-exact and the
// output depends only on the arguments. Events at or after n_samples are dropped.
std::vector<float> render_drum_kit(const std::string& soundfont_path, int program,
                                   std::vector<SynthEvent> events, std::int64_t n_samples,
                                   int sample_rate_hz);

}  // namespace cadence::io::audio
