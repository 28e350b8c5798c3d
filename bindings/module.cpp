#include "register.h"

NB_MODULE(_core, m) {
  m.doc() = "Cadence's C++ engine. Use the `cadence` package rather than this module directly.";
  cadence::bindings::register_runtime(m);
  cadence::bindings::register_arrow(m);
  cadence::bindings::register_audio(m);
  cadence::bindings::register_midi(m);
  cadence::bindings::register_drums(m);
  cadence::bindings::register_annotation(m);
  cadence::bindings::register_audio_store(m);
  cadence::bindings::register_sequences(m);
  cadence::bindings::register_gait(m);
  cadence::bindings::register_zip(m);
  cadence::bindings::register_gait_phase(m);
  cadence::bindings::register_gait_spm(m);
}
