#include "cadence/io/audio/soundfont_synth.h"

#include <algorithm>
#include <memory>
#include <tuple>

// TinySoundFont's implementation, compiled here once, its functions static to this file.
#define TSF_IMPLEMENTATION
#define TSF_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <tsf.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace cadence::io::audio {

namespace {

constexpr int kChannel = 9;       // GM's percussion channel
constexpr int kDrumBank = 128;    // SoundFont 2's bank of drum kits
constexpr int kMaxVoices = 256;   // TinySoundFont's default in its Python package

struct TsfClose {
  void operator()(tsf* f) const noexcept { tsf_close(f); }
};

}  // namespace

std::vector<float> render_drum_kit(const std::string& soundfont_path, int program,
                                   std::vector<SynthEvent> events, std::int64_t n_samples,
                                   int sample_rate_hz) {
  if (n_samples < 0) throw std::invalid_argument("render_drum_kit: n_samples must be >= 0");
  if (sample_rate_hz <= 0) throw std::invalid_argument("render_drum_kit: sample_rate_hz must be > 0");
  std::unique_ptr<tsf, TsfClose> f(tsf_load_filename(soundfont_path.c_str()));
  if (!f) throw SoundFontError(soundfont_path + ": not a readable SoundFont 2 file");
  tsf_set_output(f.get(), TSF_STEREO_INTERLEAVED, sample_rate_hz, 0.0f);
  tsf_set_max_voices(f.get(), kMaxVoices);
  tsf_channel_set_bank(f.get(), kChannel, kDrumBank);
  if (!tsf_channel_set_presetnumber(f.get(), kChannel, program, 1) ||
      tsf_channel_get_preset_bank(f.get(), kChannel) != kDrumBank ||
      tsf_channel_get_preset_number(f.get(), kChannel) != program)
    throw SoundFontError(soundfont_path + ": no drum kit " + std::to_string(program) + " in bank 128");

  std::stable_sort(events.begin(), events.end(), [](const SynthEvent& x, const SynthEvent& y) {
    return std::tie(x.sample, x.kind) < std::tie(y.sample, y.kind);
  });
  std::vector<float> out(static_cast<std::size_t>(n_samples) * 2, 0.0f);
  std::int64_t done = 0;
  const auto render_to = [&](std::int64_t until) {
    while (done < until) {  // tsf_render_float takes an int count
      const int n = static_cast<int>(std::min<std::int64_t>(until - done, 1 << 20));
      tsf_render_float(f.get(), out.data() + done * 2, n, 0);
      done += n;
    }
  };
  for (const SynthEvent& e : events) {
    if (e.sample >= n_samples) break;
    render_to(std::max<std::int64_t>(e.sample, done));
    switch (e.kind) {
      case SynthEvent::NoteOn: tsf_channel_note_on(f.get(), kChannel, e.a, static_cast<float>(e.b) / 127.0f); break;
      case SynthEvent::NoteOff: tsf_channel_note_off(f.get(), kChannel, e.a); break;
      case SynthEvent::Control: tsf_channel_midi_control(f.get(), kChannel, e.a, e.b); break;
      default: throw std::invalid_argument("render_drum_kit: unknown event kind " + std::to_string(e.kind));
    }
  }
  render_to(n_samples);
  return out;
}

}  // namespace cadence::io::audio
