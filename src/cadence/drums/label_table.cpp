#include "cadence/drums/label_table.h"

#include <array>
#include <stdexcept>
#include <string>

namespace cadence::drums {

namespace {

// ADTOF ENST_MIDI, in its order.
constexpr LabelPitch kEnst[] = {
    {"bd", 35},  {"cs", 37},   {"rs", 38},  {"sd", 38},  {"sd-", 38}, {"lft", 41}, {"chh", 42},
    {"lt", 45},  {"ohh", 46},  {"lmt", 47}, {"mt", 48},  {"cr", 49},  {"c1", 49},  {"cr1", 49},
    {"cr5", 49}, {"rc", 51},   {"rc1", 51}, {"rc3", 51}, {"ch", 52},  {"ch1", 52}, {"ch5", 52},
    {"spl", 55}, {"spl2", 55}, {"cb", 56},  {"cr2", 57}, {"c", 57},   {"c4", 57},  {"rc2", 59},
    {"rc4", 59}, {"sticks", 75},
};

// ADTOF MDBS_MIDI (MDB-Drums subclass labels), in its order.
constexpr LabelPitch kMdb[] = {
    {"KD", 35},  {"SD", 38},  {"SDB", 38}, {"SDD", 38}, {"SDF", 38}, {"SDG", 38}, {"SDNS", 38},
    {"CHH", 42}, {"OHH", 46}, {"PHH", 44}, {"HIT", 50}, {"MHT", 48}, {"HFT", 43}, {"LFT", 41},
    {"RDC", 51}, {"RDB", 53}, {"CRC", 49}, {"CHC", 52}, {"SPC", 55}, {"SST", 37}, {"TMB", 54},
};

// MDB-Drums class labels: the pitch ADTOF's MIDI_REDUCED_5 gives each class; OT left out.
constexpr LabelPitch kMdbClass[] = {{"KD", 35}, {"SD", 38}, {"HH", 42}, {"TT", 47}, {"CY", 49}};

// ADTOF RBMA_FULL_MIDI (drums_f): index i -> 35 + i, for i in 0..46.
constexpr LabelPitch kRbmaFull[] = {
    {"0", 35},  {"1", 36},  {"2", 37},  {"3", 38},  {"4", 39},  {"5", 40},  {"6", 41},  {"7", 42},
    {"8", 43},  {"9", 44},  {"10", 45}, {"11", 46}, {"12", 47}, {"13", 48}, {"14", 49}, {"15", 50},
    {"16", 51}, {"17", 52}, {"18", 53}, {"19", 54}, {"20", 55}, {"21", 56}, {"22", 57}, {"23", 58},
    {"24", 59}, {"25", 60}, {"26", 61}, {"27", 62}, {"28", 63}, {"29", 64}, {"30", 65}, {"31", 66},
    {"32", 67}, {"33", 68}, {"34", 69}, {"35", 70}, {"36", 71}, {"37", 72}, {"38", 73}, {"39", 74},
    {"40", 75}, {"41", 76}, {"42", 77}, {"43", 78}, {"44", 79}, {"45", 80}, {"46", 81},
};

constexpr LabelPitch kIdmt[] = {{"KD", 35}, {"SD", 38}, {"HH", 42}};

constexpr std::array<AnnotationFormat, 7> kFormats = {
    AnnotationFormat::Midi,   AnnotationFormat::Enst,  AnnotationFormat::Mdb,  AnnotationFormat::MdbClass,
    AnnotationFormat::Rbma13, AnnotationFormat::Tmidt, AnnotationFormat::Idmt,
};

}  // namespace

const char* annotation_format_name(AnnotationFormat f) noexcept {
  switch (f) {
    case AnnotationFormat::Midi: return "midi";
    case AnnotationFormat::Enst: return "enst";
    case AnnotationFormat::Mdb: return "mdb";
    case AnnotationFormat::MdbClass: return "mdb_class";
    case AnnotationFormat::Rbma13: return "rbma13";
    case AnnotationFormat::Tmidt: return "tmidt";
    case AnnotationFormat::Idmt: return "idmt";
  }
  return "?";
}

std::span<const AnnotationFormat> annotation_formats() noexcept { return kFormats; }

AnnotationFormat parse_annotation_format(std::string_view name) {
  std::string known;
  for (const auto f : kFormats) {
    if (name == annotation_format_name(f)) return f;
    known += (known.empty() ? "" : ", ") + std::string(annotation_format_name(f));
  }
  throw std::invalid_argument("annotation format '" + std::string(name) + "' is not one of " + known);
}

std::span<const LabelPitch> label_table(AnnotationFormat f) noexcept {
  switch (f) {
    case AnnotationFormat::Midi: return {};
    case AnnotationFormat::Enst: return kEnst;
    case AnnotationFormat::Mdb: return kMdb;
    case AnnotationFormat::MdbClass: return kMdbClass;
    case AnnotationFormat::Rbma13:
    case AnnotationFormat::Tmidt: return kRbmaFull;
    case AnnotationFormat::Idmt: return kIdmt;
  }
  return {};
}

bool labels_are_indices(AnnotationFormat f) noexcept {
  return f == AnnotationFormat::Rbma13 || f == AnnotationFormat::Tmidt;
}

int label_pitch(AnnotationFormat f, std::string_view label) noexcept {
  // At most 47 short entries: a linear scan is cheap (index formats look up by position instead).
  for (const auto& e : label_table(f))
    if (e.label == label) return e.pitch;
  return -1;
}

}  // namespace cadence::drums
