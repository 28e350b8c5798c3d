#include "cadence/drums/annotation.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "cadence/drums/annotation_text.h"
#include "cadence/drums/annotation_xml.h"

namespace cadence::drums {

namespace {

std::string located(const std::string& name, std::int64_t line, const std::string& reason) {
  return line > 0 ? name + ":" + std::to_string(line) + ": " + reason : name + ": " + reason;
}

}  // namespace

AnnotationError::AnnotationError(const std::string& name, std::int64_t line, const std::string& reason)
    : std::runtime_error(located(name, line, reason)), line_(line), reason_(reason) {}

void UnmappedCounter::add(std::string_view label) {
  for (auto& [l, n] : counts_)
    if (l == label) {
      ++n;
      return;
    }
  counts_.emplace_back(std::string(label), 1);
}

std::vector<std::pair<std::string, std::int64_t>> UnmappedCounter::take() {
  std::sort(counts_.begin(), counts_.end());
  return std::move(counts_);
}

Annotation parse_annotation(std::string_view bytes, AnnotationFormat format, const std::string& name) {
  switch (format) {
    case AnnotationFormat::Midi:
      throw std::invalid_argument("parse_annotation: MIDI files are read by io/midi/smf.h");
    case AnnotationFormat::Idmt: return parse_annotation_xml(bytes, format, name);
    default: return parse_annotation_text(bytes, format, name);
  }
}

Annotation read_annotation(const std::string& path, AnnotationFormat format) {
  if (format == AnnotationFormat::Midi) return parse_annotation({}, format, path);  // raises
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) throw AnnotationError(path, 0, std::string("cannot open: ") + std::strerror(errno));
  std::string bytes;
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) bytes.append(buf, n);
  if (std::ferror(f.get())) throw AnnotationError(path, 0, "read error");
  return parse_annotation(bytes, format, path);
}

}  // namespace cadence::drums
