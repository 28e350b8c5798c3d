// One registration function per area, each in its own translation unit (symusic's layout), so
// that touching one area recompiles one file.
#pragma once

#include <nanobind/nanobind.h>

namespace cadence::bindings {

void register_runtime(nanobind::module_& m);
void register_arrow(nanobind::module_& m);
void register_audio(nanobind::module_& m);
void register_midi(nanobind::module_& m);
void register_drums(nanobind::module_& m);
void register_annotation(nanobind::module_& m);
void register_audio_store(nanobind::module_& m);
void register_sequences(nanobind::module_& m);
void register_gait(nanobind::module_& m);
void register_zip(nanobind::module_& m);
void register_gait_phase(nanobind::module_& m);
void register_gait_spm(nanobind::module_& m);

}  // namespace cadence::bindings
