#include <cmath>

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "arrow_batch.h"
#include "codes.h"
#include <nanobind/ndarray.h>

#include "cadence/drums/corpus_scan.h"
#include "cadence/drums/prepare_run.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

namespace {

using drums::PairResult;

nb::dict stats_dict(const drums::PairStats& s) {
  nb::dict d;
  d["notes"] = s.notes;
  d["onsets"] = s.onsets;
  d["unmapped_hits"] = s.unmapped_hits;
  nb::dict unmapped;
  for (int p = 0; p < 128; ++p)
    if (s.unmapped_by_pitch[p]) unmapped[nb::int_(p)] = s.unmapped_by_pitch[p];
  d["unmapped_by_pitch"] = unmapped;
  d["source_rate_hz"] = s.source_rate_hz;
  d["audio_s"] = s.audio_s;
  d["midi_end_s"] = s.midi_end_s;
  nb::dict by_channel;  // channels numbered 1..16, as users (and --channels) number them
  for (int c = 0; c < 16; ++c)
    if (s.notes_by_channel[c]) by_channel[nb::int_(c + 1)] = s.notes_by_channel[c];
  d["notes_by_channel"] = by_channel;
  d["notes_other_channels"] = s.notes_other_channels;
  d["onsets_past_audio"] = s.onsets_past_audio;
  d["samples_out"] = s.samples_out;
  nb::dict clips, bytes;
  for (int c = 1; c < drums::kCodecCount; ++c) {  // 0 is auto, never a stored codec
    const char* name = drums::codec_name(static_cast<drums::Codec>(c));
    if (s.clips_by_codec[c]) clips[name] = s.clips_by_codec[c];
    if (s.bytes_by_codec[c]) bytes[name] = s.bytes_by_codec[c];
  }
  d["clips_by_codec"] = clips;
  d["bytes_by_codec"] = bytes;
  d["raw_float32_bytes"] = s.raw_float32_bytes;
  d["align_offset_s"] = s.align_offset_s;  // NaN: not estimated
  d["align_peak_ratio"] = s.align_peak_ratio;
  d["aligned"] = s.aligned;
  d["onsets_before_audio"] = s.onsets_before_audio;
  nb::dict labels;  // annotation labels with no GM pitch (label_table.h)
  for (const auto& [label, n] : s.unmapped_labels) labels[nb::str(label.c_str())] = n;
  d["unmapped_labels"] = labels;
  return d;
}

drums::PrepareConfig make_config(const std::string& layout, int sample_rate_hz, double merge_s,
                                 double pad_before_s, double clip_s, const std::string& codec,
                                 const std::string& index_codec, int flac_level,
                                 double csv_tolerance_s, double midi_tolerance_s,
                                 const std::string& map_name,
                                 const std::vector<std::pair<std::string, std::vector<int>>>& classes,
                                 const std::vector<int>& channels) {
  drums::PrepareConfig c;
  if (!channels.empty()) {
    c.channel_mask = 0;
    for (int ch : channels) {
      if (ch < 1 || ch > 16) throw std::invalid_argument("MIDI channel " + std::to_string(ch) + " is not in 1..16");
      c.channel_mask |= static_cast<std::uint16_t>(1u << (ch - 1));
    }
  }
  if (layout != "clips" && layout != "index")
    throw std::invalid_argument("layout must be 'clips' or 'index', not '" + layout + "'");
  c.layout = layout == "clips" ? drums::Layout::Clips : drums::Layout::Index;
  c.sample_rate_hz = sample_rate_hz;
  c.merge_s = merge_s;
  c.pad_before_s = pad_before_s;
  c.clip_s = clip_s;
  c.codec = drums::parse_codec(codec);
  c.index_codec = drums::parse_codec(index_codec);
  c.flac_level = flac_level;
  c.csv_tolerance_s = csv_tolerance_s;
  c.midi_tolerance_s = midi_tolerance_s;
  c.class_map = classes.empty() ? drums::ClassMap::builtin(map_name) : drums::ClassMap(map_name, classes);
  return c;
}

// One input of PrepareRun: (midi_path, audio_path, csv_duration_s), or
// (annotation_paths, annotation_format, audio_paths, csv_duration_s[, kit_maps]): kit_maps one
// per annotation path, each [] or 128 lists of GM pitches (drums/kit_map.h).
drums::PairInput pair_input(nb::handle item) {
  const std::size_t n = nb::len(item);
  if (n == 5) {
    drums::PairInput in = pair_input(item[nb::slice(0, 4)]);
    const auto maps = nb::cast<std::vector<std::vector<std::vector<int>>>>(item[4]);
    if (maps.size() != in.annotation_paths.size())
      throw nb::value_error("a PrepareRun input's kit_maps need one entry per annotation path");
    for (const auto& m : maps) {
      try {
        in.kit_maps.push_back(drums::checked_kit_map(m));
      } catch (const std::invalid_argument& e) {
        throw nb::value_error(e.what());
      }
    }
    return in;
  }
  if (n == 3) {
    auto [midi, audio, duration] = nb::cast<std::tuple<std::string, std::string, double>>(item);
    return {std::move(midi), std::move(audio), duration};
  }
  if (n == 4) {
    auto [annotations, format, audio, duration] =
        nb::cast<std::tuple<std::vector<std::string>, std::string, std::vector<std::string>, double>>(item);
    if (annotations.empty() || audio.empty())
      throw nb::value_error("a PrepareRun input needs at least one annotation path and one audio path");
    drums::PairInput in;
    in.csv_duration_s = duration;
    in.annotation_paths = std::move(annotations);
    in.annotation_format = drums::parse_annotation_format(format);
    in.audio_paths = std::move(audio);
    return in;
  }
  throw nb::value_error(
      "a PrepareRun input is (midi_path, audio_path, csv_duration_s) or "
      "(annotation_paths, annotation_format, audio_paths, csv_duration_s)");
}

}  // namespace

void register_drums(nb::module_& m) {
  // The engine's codes and defaults, so that Python never mirrors them by hand.
  m.def(
      "drums_codecs",
      [] { return names_by_code(drums::kCodecCount, [](int c) { return drums::codec_name(static_cast<drums::Codec>(c)); }); },
      "Names of the clip codecs, by code (a record's codec id; 0 is auto, never stored).");
  m.def(
      "drums_reject_reasons",
      [] { return names_by_code(drums::kRejectCount, [](int r) { return drums::reject_name(static_cast<drums::Reject>(r)); }); },
      "Names of the reject reasons, by code (0 is none: the pair was kept).");
  m.def(
      "drums_prepare_defaults",
      [] {
        const drums::PrepareConfig c;
        nb::dict d;
        d["layout"] = c.layout == drums::Layout::Clips ? "clips" : "index";
        d["sample_rate_hz"] = c.sample_rate_hz;
        d["mapping"] = c.class_map.name();
        d["merge_s"] = c.merge_s;
        d["pad_before_s"] = c.pad_before_s;
        d["clip_s"] = c.clip_s;
        d["codec"] = drums::codec_name(c.codec);
        d["index_codec"] = drums::codec_name(c.index_codec);
        d["flac_level"] = c.flac_level;
        d["csv_tolerance_s"] = c.csv_tolerance_s;
        d["midi_tolerance_s"] = c.midi_tolerance_s;
        d["align"] = c.align_onsets;
        return d;
      },
      "The defaults of one pair's processing (drums::PrepareConfig), by the engine's names.");

  m.def(
      "scan_corpus",
      [](const std::vector<std::string>& paths, runtime::Job& job, const std::string& archive) {
        return ArrowBatch{drums::scan_corpus(paths, job, archive)};
      },
      nb::arg("paths"), nb::arg("job"), nb::arg("archive") = "", nb::call_guard<nb::gil_scoped_release>(),
      "Decode every audio file on the job's workers; one row per file (path, ok, error, "
      "sample_rate_hz, channels, frames, duration_s, peak, rms_dbfs), in input order.");

  m.def(
      "drums_class_map",
      [](const std::string& scheme) { return drums::ClassMap::builtin(scheme).classes(); },
      "scheme"_a, "The (class name, pitches) list of a built-in mapping.");
  m.def(
      "drums_check_class_map",
      [](const std::string& name, const std::vector<std::pair<std::string, std::vector<int>>>& c) {
        return drums::ClassMap(name, c).classes();
      },
      "name"_a, "classes"_a, "Validate a user mapping (pitches 0..127, each in one class).");

  nb::class_<PairResult>(m, "PairResult", "One input's outcome, in input order.")
      .def_prop_ro("reject", [](const PairResult& r) { return std::string(drums::reject_name(r.reject)); })
      .def_prop_ro("ok", [](const PairResult& r) { return r.reject == drums::Reject::None; })
      .def_ro("message", &PairResult::message)
      .def_ro("warnings", &PairResult::warnings)
      .def_prop_ro("records",
                   [](const PairResult& r) -> std::optional<ArrowBatch> {
                     if (!r.records) return std::nullopt;
                     return ArrowBatch{r.records};
                   })
      .def_prop_ro("audio",
                   [](const PairResult& r) -> std::optional<ArrowBatch> {
                     if (!r.audio) return std::nullopt;
                     return ArrowBatch{r.audio};
                   })
      .def_prop_ro("stats", [](const PairResult& r) { return stats_dict(r.stats); })
      .def(
          "release", [](PairResult& r) { r.held.reset(); },
          "Give this result's bytes back to the memory budget (once written).");

  nb::class_<drums::PrepareRun>(m, "PrepareRun",
                                "Processes annotation/audio pairs on the job's workers; next() returns "
                                "results in input order. Each input is (midi_path, audio_path, "
                                "csv_duration_s) or (annotation_paths, annotation_format, audio_paths, "
                                "csv_duration_s[, kit_maps]): several annotation files are merged, several audio "
                                "files (stems) summed after each is averaged to mono (NaN duration: no CSV); "
                                "kit_maps, one per annotation path, [] or 128 lists of the GM pitches each key "
                                "sounds as.")
      .def(
          "__init__",
          [](drums::PrepareRun* self, const std::vector<nb::object>& inputs,
             runtime::Job& job, const std::string& layout, int sample_rate_hz, double merge_s,
             double pad_before_s, double clip_s, const std::string& codec,
             const std::string& index_codec, int flac_level, double csv_tolerance_s,
             double midi_tolerance_s, const std::string& map_name,
             const std::vector<std::pair<std::string, std::vector<int>>>& classes,
             const std::vector<int>& channels, const std::string& archive, double max_offset_s, bool align) {
            std::vector<drums::PairInput> in;
            in.reserve(inputs.size());
            for (const auto& item : inputs) in.push_back(pair_input(item));
            auto config = make_config(layout, sample_rate_hz, merge_s, pad_before_s, clip_s, codec,
                                      index_codec, flac_level, csv_tolerance_s, midi_tolerance_s,
                                      map_name, classes, channels);
            config.archive_path = archive;  // empty: the paths are files
            config.max_offset_s = max_offset_s;
            config.align_onsets = align;
            new (self) drums::PrepareRun(std::move(in), std::move(config), job);
          },
          "inputs"_a, "job"_a, nb::kw_only(), "layout"_a, "sample_rate_hz"_a, "merge_s"_a,
          "pad_before_s"_a, "clip_s"_a, "codec"_a, "index_codec"_a, "flac_level"_a,
          "csv_tolerance_s"_a, "midi_tolerance_s"_a, "map_name"_a, "classes"_a,
          "channels"_a = std::vector<int>{}, "archive"_a = "", "max_offset_s"_a = std::nan(""),
          "align"_a = false, nb::keep_alive<1, 3>())
      .def("next", &drums::PrepareRun::next, nb::call_guard<nb::gil_scoped_release>(),
           "The next result in input order, or None at the end (raises Cancelled if stopped).")
      .def("__len__", &drums::PrepareRun::size);
}

}  // namespace cadence::bindings
