// Every drum dataset's labels go to General MIDI drum pitches first (then through the class
// mapping, class_map.h), so one vocabulary path serves every dataset. One table per annotation
// format; a label the table lacks makes no hit and is counted, never dropped silently.
//
// Sources (each table is ADTOF's where ADTOF has one: MZehren/ADTOF,
// adtof/ressources/instrumentsMapping.py, read at commit b3968fb):
//   enst      ENST_MIDI ("FROM VOGL"), matched on the exact label, instance digits included
//             (cr2, rc4, sd-; bd is 35). ADTOF leaves mtr, ltr and sweep out: so do we.
//   mdb       MDBS_MIDI, on MDB-Drums' subclass labels (annotations/subclass, 21 labels; ADTOF
//             cites Southall et al., ISMIR 2017 late-breaking, "MDB Drums").
//   mdb_class MDB-Drums' class labels (annotations/class: KD SD HH TT CY OT). ADTOF reads the
//             subclass files only; ours: each class to the pitch ADTOF's 5-class reduction
//             (MIDI_REDUCED_5) uses for it (35, 38, 42, 47, 49). OT ("other") has no one pitch:
//             unmapped, counted.
//   rbma13    RBMA_FULL_MIDI (drums_f, 47 classes: index i is GM pitch 35 + i), the table ADTOF
//             reads RBMA13's annotations/drums_f with ("FROM VOGL", DAFx 2018 mappings).
//   tmidt     the same RBMA_FULL_MIDI: ADTOF's getTMIDT reads TMIDT/annotations/drums_f with it.
//   idmt      IDMT-SMT-Drums' three instruments KD SD HH (hi-hat: closed). ADTOF has no table;
//             ours follows its kick/snare/closed-hat choices elsewhere: 35, 38, 42.
//   midi      no table: SMF notes are pitches already.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace cadence::drums {

enum class AnnotationFormat : std::uint8_t { Midi, Enst, Mdb, MdbClass, Rbma13, Tmidt, Idmt };

// "midi", "enst", "mdb", "mdb_class", "rbma13", "tmidt", "idmt" (the names the Python side and
// the bindings pass); anything else raises std::invalid_argument listing these.
AnnotationFormat parse_annotation_format(std::string_view name);
const char* annotation_format_name(AnnotationFormat f) noexcept;
std::span<const AnnotationFormat> annotation_formats() noexcept;

struct LabelPitch {
  std::string_view label;
  std::uint8_t pitch;
};

// The format's table, in the source's order (empty for midi). For rbma13/tmidt the labels are
// the class indices as text ("0", "1", ...), entry i for index i.
std::span<const LabelPitch> label_table(AnnotationFormat f) noexcept;

// The GM pitch of `label` (exact, case-sensitive match), or -1 when the table has none.
int label_pitch(AnnotationFormat f, std::string_view label) noexcept;

// True for the formats whose labels are class indices (rbma13, tmidt).
bool labels_are_indices(AnnotationFormat f) noexcept;

}  // namespace cadence::drums
