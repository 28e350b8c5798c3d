#include "cadence/drums/annotation_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace cadence::drums {

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// A field quoted in a message, cut short: a damaged file can hold a very long "line".
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

bool parse_double(std::string_view s, double& out) noexcept {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;  // from_chars refuses a leading '+'
  const auto [end, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && end == last && std::isfinite(out);
}

std::uint8_t velocity_of(double v) noexcept {
  const double scaled = v <= 1.0 ? v * 127.0 : v;
  return static_cast<std::uint8_t>(std::clamp(std::lround(scaled), 1L, 127L));
}

}  // namespace

Annotation parse_annotation_text(std::string_view text, AnnotationFormat format, const std::string& name) {
  Annotation out;
  UnmappedCounter unmapped;
  const bool indices = labels_are_indices(format);
  const auto table = label_table(format);
  // A hit's line takes ~10-20 bytes: reserve about that many, so the vector grows once at most.
  out.hits.reserve(text.size() / 16);
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  std::int64_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    const char* nl = static_cast<const char*>(std::memchr(text.data() + pos, '\n', text.size() - pos));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - text.data()) : text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    // Split into at most four fields (the fourth only to say there are too many).
    std::string_view fields[4];
    int n = 0;
    std::size_t i = 0;
    while (i < line.size() && n < 4) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i >= line.size()) break;
      const std::size_t start = i;
      while (i < line.size() && !is_blank(line[i])) ++i;
      fields[n++] = line.substr(start, i - start);
    }
    if (n == 0) continue;  // blank line
    if (n == 1)
      throw AnnotationError(name, line_no, "expected 'time label', found only " + quoted(fields[0]));
    if (n == 4)
      throw AnnotationError(name, line_no, "expected 'time label' (and at most a velocity), found more fields: " +
                                               quoted(line));
    double time_s = 0;
    if (!parse_double(fields[0], time_s))
      throw AnnotationError(name, line_no, "time " + quoted(fields[0]) + " is not a number of seconds");
    std::uint8_t velocity = kAnnotationVelocity;
    if (n == 3) {
      double v = 0;
      if (!parse_double(fields[2], v) || v <= 0 || v > 127)
        throw AnnotationError(name, line_no, "velocity " + quoted(fields[2]) + " is not a number in (0, 127]");
      velocity = velocity_of(v);
    }
    int pitch = -1;
    if (indices) {
      // A class index; ADTOF reads it through int(float(s)), so "7.0" is 7, but "7.5" is no class.
      double k = 0;
      if (!parse_double(fields[1], k) || k < 0 || k != std::floor(k))
        throw AnnotationError(name, line_no, "class index " + quoted(fields[1]) + " is not a whole number >= 0");
      if (k < static_cast<double>(table.size())) pitch = table[static_cast<std::size_t>(k)].pitch;
    } else {
      pitch = label_pitch(format, fields[1]);
    }
    if (pitch < 0) {
      unmapped.add(fields[1]);
    } else {
      out.hits.push_back({time_s, static_cast<std::uint8_t>(pitch), velocity});
    }
  }
  out.lines = line_no;
  out.unmapped_labels = unmapped.take();
  return out;
}

}  // namespace cadence::drums
