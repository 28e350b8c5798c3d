#include "cadence/drums/annotation_xml.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

namespace cadence::drums {

namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

class XmlReader {
 public:
  XmlReader(std::string_view xml, AnnotationFormat format, const std::string& name)
      : xml_(xml), format_(format), name_(name) {}

  Annotation run();

 private:
  struct Open {
    std::string_view name;
    std::size_t at;  // byte offset of its '<', for messages
  };

  [[noreturn]] void fail(std::size_t at, const std::string& reason) const {
    const auto line = 1 + std::count(xml_.begin(), xml_.begin() + static_cast<std::ptrdiff_t>(std::min(at, xml_.size())), '\n');
    throw AnnotationError(name_, line, reason);
  }
  std::int64_t line_of(std::size_t at) const {
    return 1 + std::count(xml_.begin(), xml_.begin() + static_cast<std::ptrdiff_t>(at), '\n');
  }
  std::size_t find(std::string_view what, std::size_t from, std::size_t at, const char* construct) const {
    const auto p = xml_.find(what, from);
    if (p == std::string_view::npos) fail(at, std::string("unterminated ") + construct);
    return p;
  }
  std::string_view decoded(std::string_view raw, std::size_t at);
  void start_element(std::string_view name, std::size_t at, std::size_t content_at, bool empty);
  void end_element(std::string_view name, std::size_t at);
  void end_event(std::size_t close_at);

  std::string_view xml_;
  AnnotationFormat format_;
  const std::string& name_;
  Annotation out_;
  UnmappedCounter unmapped_;
  std::vector<Open> stack_;
  bool root_seen_ = false;
  // The event being read: where it opened, and the raw text of its two values.
  bool in_event_ = false;
  std::size_t event_at_ = 0;
  std::string_view onset_raw_, instrument_raw_;
  bool have_onset_ = false, have_instrument_ = false;
  std::size_t onset_at_ = 0;
  std::size_t value_start_ = 0;  // content start of an open <onsetSec>/<instrument>
  std::string scratch_;          // only when a value holds an entity
};

std::string_view XmlReader::decoded(std::string_view raw, std::size_t at) {
  if (raw.find('&') == std::string_view::npos) return raw;
  scratch_.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      scratch_ += raw[i];
      continue;
    }
    const auto semi = raw.find(';', i);
    if (semi == std::string_view::npos) fail(at, "'&' without ';' in a value");
    const auto ref = raw.substr(i + 1, semi - i - 1);
    if (ref == "amp") scratch_ += '&';
    else if (ref == "lt") scratch_ += '<';
    else if (ref == "gt") scratch_ += '>';
    else if (ref == "quot") scratch_ += '"';
    else if (ref == "apos") scratch_ += '\'';
    else if (ref.size() > 1 && ref[0] == '#') {
      unsigned code = 0;
      const bool hex = ref[1] == 'x';
      const auto digits = ref.substr(hex ? 2 : 1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
      // The values we read are numbers and instrument codes: ASCII is all they can hold.
      if (ec != std::errc() || end != digits.data() + digits.size() || code == 0 || code > 127)
        fail(at, "character reference '&" + std::string(ref) + ";' is not an ASCII character");
      scratch_ += static_cast<char>(code);
    } else {
      fail(at, "unknown entity '&" + std::string(ref) + ";'");
    }
    i = semi;
  }
  return scratch_;
}

void XmlReader::start_element(std::string_view name, std::size_t at, std::size_t content_at, bool empty) {
  if (stack_.empty()) {
    if (root_seen_) fail(at, "a second root element <" + std::string(name) + ">");
    root_seen_ = true;
  }
  if (value_start_)  // inside <onsetSec> or <instrument>: they hold text only
    fail(at, "<" + std::string(name) + "> inside <" + std::string(stack_.back().name) + ">, which holds a value");
  if (name == "event") {
    if (in_event_) fail(at, "<event> inside the <event> opened on line " + std::to_string(line_of(event_at_)));
    if (empty) fail(at, "empty <event/>: no onsetSec, no instrument");
    in_event_ = true;
    event_at_ = at;
    have_onset_ = have_instrument_ = false;
  } else if (in_event_ && stack_.back().name == "event" && (name == "onsetSec" || name == "instrument")) {
    if (empty) fail(at, "empty <" + std::string(name) + "/>");
    const bool onset = name == "onsetSec";
    if (onset ? have_onset_ : have_instrument_)
      fail(at, "a second <" + std::string(name) + "> in the <event> opened on line " + std::to_string(line_of(event_at_)));
    value_start_ = content_at;
  }
  if (!empty) stack_.push_back({name, at});
}

void XmlReader::end_element(std::string_view name, std::size_t at) {
  if (stack_.empty()) fail(at, "</" + std::string(name) + "> closes nothing");
  if (stack_.back().name != name)
    fail(at, "</" + std::string(name) + "> closes <" + std::string(stack_.back().name) + "> opened on line " +
                 std::to_string(line_of(stack_.back().at)));
  if (value_start_) {
    const auto raw = xml_.substr(value_start_, at - value_start_);
    if (name == "onsetSec") {
      onset_raw_ = raw;
      onset_at_ = value_start_;
      have_onset_ = true;
    } else {
      instrument_raw_ = raw;
      have_instrument_ = true;
    }
    value_start_ = 0;
  } else if (name == "event") {
    end_event(at);
  }
  stack_.pop_back();
}

void XmlReader::end_event(std::size_t close_at) {
  in_event_ = false;
  ++out_.lines;
  if (!have_onset_ || !have_instrument_)
    fail(close_at, std::string("the <event> opened on line ") + std::to_string(line_of(event_at_)) + " has no <" +
                       (have_onset_ ? "instrument" : "onsetSec") + ">");
  const auto onset = trim(decoded(onset_raw_, onset_at_));
  double time_s = 0;
  const char* first = onset.data();
  if (first != onset.data() + onset.size() && *first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, onset.data() + onset.size(), time_s);
  if (onset.empty() || ec != std::errc() || end != onset.data() + onset.size() || !std::isfinite(time_s))
    fail(onset_at_, "onsetSec '" + std::string(onset.substr(0, 40)) + "' is not a number of seconds");
  // decoded() may reuse scratch_: the onset is parsed already.
  const auto label = trim(decoded(instrument_raw_, close_at));
  const int pitch = label_pitch(format_, label);
  if (pitch < 0) {
    unmapped_.add(label);
  } else {
    out_.hits.push_back({time_s, static_cast<std::uint8_t>(pitch), kAnnotationVelocity});
  }
}

Annotation XmlReader::run() {
  std::size_t pos = 0;
  if (xml_.size() >= 3 && std::memcmp(xml_.data(), "\xEF\xBB\xBF", 3) == 0) pos = 3;
  while (pos < xml_.size()) {
    const auto lt = xml_.find('<', pos);
    const auto text_end = lt == std::string_view::npos ? xml_.size() : lt;
    if (stack_.empty() && !trim(xml_.substr(pos, text_end - pos)).empty())
      fail(pos, "text outside the root element");
    if (lt == std::string_view::npos) break;
    const auto rest = xml_.substr(lt);
    if (rest.starts_with("<?")) {
      pos = find("?>", lt + 2, lt, "processing instruction") + 2;
    } else if (rest.starts_with("<!--")) {
      if (value_start_) fail(lt, "a comment inside a value");
      pos = find("-->", lt + 4, lt, "comment") + 3;
    } else if (rest.starts_with("<![CDATA[")) {
      fail(lt, "CDATA sections are not used by IDMT's files and not read here");
    } else if (rest.starts_with("<!")) {
      const auto gt = find(">", lt + 2, lt, "declaration");
      if (xml_.substr(lt, gt - lt).find('[') != std::string_view::npos)
        fail(lt, "a DOCTYPE with an internal subset is not read here");
      pos = gt + 1;
    } else if (rest.starts_with("</")) {
      const auto gt = find(">", lt + 2, lt, "end tag");
      const auto name = trim(xml_.substr(lt + 2, gt - lt - 2));
      end_element(name, lt);
      pos = gt + 1;
    } else {
      // A start tag: the name, then attributes (skipped, quotes respected), then '>' or '/>'.
      std::size_t i = lt + 1;
      while (i < xml_.size() && !is_space(xml_[i]) && xml_[i] != '>' && xml_[i] != '/') ++i;
      const auto name = xml_.substr(lt + 1, i - lt - 1);
      if (name.empty()) fail(lt, "'<' not followed by a tag name");
      char quote = 0;
      while (i < xml_.size() && (quote || (xml_[i] != '>'))) {
        if (quote) {
          if (xml_[i] == quote) quote = 0;
        } else if (xml_[i] == '"' || xml_[i] == '\'') {
          quote = xml_[i];
        } else if (xml_[i] == '<') {
          fail(lt, "tag <" + std::string(name) + " is not closed by '>'");
        }
        ++i;
      }
      if (i >= xml_.size()) fail(lt, "tag <" + std::string(name) + " is not closed by '>'");
      const bool empty = xml_[i - 1] == '/';
      start_element(name, lt, i + 1, empty);
      pos = i + 1;
    }
  }
  if (!root_seen_) fail(xml_.size(), "no root element: not an XML annotation");
  if (!stack_.empty())
    fail(xml_.size(), "the file ends inside <" + std::string(stack_.back().name) + "> opened on line " +
                          std::to_string(line_of(stack_.back().at)));
  out_.unmapped_labels = unmapped_.take();
  return std::move(out_);
}

}  // namespace

Annotation parse_annotation_xml(std::string_view xml, AnnotationFormat format, const std::string& name) {
  return XmlReader(xml, format, name).run();
}

}  // namespace cadence::drums
