// libFuzzer target: parse_annotation on arbitrary bytes, in each text/XML format (the first byte
// picks it). Any input must either parse into hits that keep the reader's promises (finite
// times, a pitch from the format's table, velocity 1..127, unmapped labels sorted, distinct and
// counted) or raise AnnotationError "fuzz.txt:LINE: reason" with LINE inside the input; anything
// else (another exception, a sanitizer report, a hang) is a bug.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "cadence/drums/annotation.h"

#include "check.h"

namespace drums = cadence::drums;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr drums::AnnotationFormat kFormats[] = {
      drums::AnnotationFormat::Enst,   drums::AnnotationFormat::Mdb,   drums::AnnotationFormat::MdbClass,
      drums::AnnotationFormat::Rbma13, drums::AnnotationFormat::Tmidt, drums::AnnotationFormat::Idmt,
  };
  const auto format = kFormats[data[0] % std::size(kFormats)];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string name = "fuzz.txt";
  try {
    const auto a = drums::parse_annotation(text, format, name);
    const auto table = drums::label_table(format);
    for (const auto& h : a.hits) {
      CHECK(std::isfinite(h.onset_s));
      CHECK(h.velocity >= 1 && h.velocity <= 127);
      CHECK(std::any_of(table.begin(), table.end(), [&](const auto& e) { return e.pitch == h.pitch; }));
    }
    for (std::size_t i = 0; i < a.unmapped_labels.size(); ++i) {
      CHECK(a.unmapped_labels[i].second > 0);
      CHECK(!a.unmapped_labels[i].first.empty() || format == drums::AnnotationFormat::Idmt);
      if (i > 0) CHECK(a.unmapped_labels[i - 1].first < a.unmapped_labels[i].first);
    }
    CHECK(a.lines >= static_cast<std::int64_t>(a.hits.size()));
  } catch (const drums::AnnotationError& e) {
    const std::string what = e.what();
    CHECK(what.rfind(name + ":", 0) == 0);
    CHECK(!e.reason().empty());
    const auto lines = 1 + std::count(text.begin(), text.end(), '\n');
    CHECK(e.line() >= 1 && e.line() <= lines);
  }
  return 0;
}
