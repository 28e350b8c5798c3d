// The annotation readers and label tables (src/cadence/drums/annotation*.h, label_table.h): for
// tests, benchmarks and docs; prepare reads annotations inside the engine (PrepareRun).
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "cadence/drums/annotation.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

void register_annotation(nb::module_& m) {
  m.def(
      "read_annotation",
      [](const std::string& path, const std::string& format) {
        const auto f = drums::parse_annotation_format(format);  // ValueError naming the formats
        drums::Annotation a;
        try {
          nb::gil_scoped_release unlocked;
          a = drums::read_annotation(path, f);
        } catch (const drums::AnnotationError& e) {
          throw nb::value_error(e.what());
        }
        std::vector<double> time_s;
        std::vector<std::uint8_t> pitch, velocity;
        time_s.reserve(a.hits.size());
        pitch.reserve(a.hits.size());
        velocity.reserve(a.hits.size());
        for (const auto& h : a.hits) {
          time_s.push_back(h.onset_s);
          pitch.push_back(h.pitch);
          velocity.push_back(h.velocity);
        }
        nb::dict unmapped;
        for (const auto& [label, n] : a.unmapped_labels) unmapped[nb::str(label.c_str())] = n;
        nb::dict d;
        d["time_s"] = to_numpy(std::move(time_s));
        d["pitch"] = to_numpy(std::move(pitch));
        d["velocity"] = to_numpy(std::move(velocity));
        d["unmapped_labels"] = unmapped;
        return d;
      },
      "path"_a, "format"_a,
      "Read one annotation file (format: enst, mdb, mdb_class, rbma13, tmidt, idmt) into its hits, in "
      "file order: time_s (float64 seconds, as written), pitch (uint8 General MIDI drum pitch), velocity "
      "(uint8; 127 where the file gives none), and unmapped_labels ({label: count}: labels with no pitch, "
      "which make no hit). Raises ValueError 'FILE:LINE: reason' for a malformed line. MIDI files are "
      "read by cadence.midi.");
  m.def(
      "annotation_label_map",
      [](const std::string& format) {
        nb::dict d;
        for (const auto& e : drums::label_table(drums::parse_annotation_format(format)))
          d[nb::str(e.label.data(), e.label.size())] = e.pitch;
        return d;
      },
      "format"_a,
      "The format's label -> General MIDI pitch table, in its source's order ({} for midi, whose notes are "
      "pitches; for rbma13/tmidt the labels are the class indices as text).");
  m.def(
      "annotation_formats",
      [] {
        std::vector<std::string> names;
        for (auto f : drums::annotation_formats()) names.emplace_back(drums::annotation_format_name(f));
        return names;
      },
      "The annotation format names PrepareRun and read_annotation take.");
  m.attr("ANNOTATION_DEFAULT_VELOCITY") = drums::kAnnotationVelocity;
}

}  // namespace cadence::bindings
