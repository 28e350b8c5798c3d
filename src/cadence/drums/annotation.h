// Onset annotations other than MIDI: the datasets' own text and XML files, read into hits (time,
// GM pitch, velocity) through the format's label table (label_table.h). The readers
// (annotation_text.h, annotation_xml.h) are strict: a line they cannot read is an error naming
// the file and the line, so a pair with a damaged annotation is rejected, never half-labelled.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cadence/drums/label_table.h"
#include "cadence/drums/onset_merge.h"

namespace cadence::drums {

// Velocity of a hit whose annotation gives none (every format but a text file's optional third
// column): full, as ADTOF's text reader's default of 1.0 is.
inline constexpr std::uint8_t kAnnotationVelocity = 127;

struct Annotation {
  std::vector<Hit> hits;  // mapped labels only, in file order (merge_hits sorts)
  // Labels with no pitch in the format's table: label as written -> hits, sorted by label.
  std::vector<std::pair<std::string, std::int64_t>> unmapped_labels;
  std::int64_t lines = 0;  // text: lines read; XML: events read
};

// what() is "NAME:LINE: reason" (line 0: "NAME: reason", e.g. the file cannot be read).
class AnnotationError : public std::runtime_error {
 public:
  AnnotationError(const std::string& name, std::int64_t line, const std::string& reason);
  [[nodiscard]] std::int64_t line() const noexcept { return line_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::int64_t line_;
  std::string reason_;
};

// Parses a whole annotation held in memory. `name` is only used in messages. Not for midi
// (io/midi/smf.h reads those): raises std::invalid_argument.
Annotation parse_annotation(std::string_view bytes, AnnotationFormat format, const std::string& name);

// Reads and parses a file (annotations are small: read at once).
Annotation read_annotation(const std::string& path, AnnotationFormat format);

// Counts labels that have no pitch while a reader runs; `take()` gives them sorted by label.
class UnmappedCounter {
 public:
  void add(std::string_view label);
  std::vector<std::pair<std::string, std::int64_t>> take();

 private:
  std::vector<std::pair<std::string, std::int64_t>> counts_;  // few distinct labels: a flat list
};

}  // namespace cadence::drums
