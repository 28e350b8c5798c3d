// Drum-pitch -> class mappings used in drum-transcription research (DOMAIN.md §1), plus
// user-supplied ones. A mapping is a list of class names and, per MIDI pitch, the class it
// belongs to or none: a pitch outside every class is "unmapped", which the pipeline counts and
// reports instead of dropping silently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cadence::drums {

class ClassMap {
 public:
  static constexpr std::int16_t kUnmapped = -1;

  // `classes`: (name, pitches) in class order. Throws std::invalid_argument naming the pitch
  // when a pitch is outside 0..127 or listed twice (in one class or two), or naming the class
  // when two classes have the same name.
  ClassMap(std::string name, const std::vector<std::pair<std::string, std::vector<int>>>& classes);

  // Built-in schemes: "gmd9", "magenta8", "magenta3", "adtof5", "raw" (one class per pitch).
  static ClassMap builtin(const std::string& scheme);
  static std::vector<std::string> builtin_names();

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::vector<std::string>& class_names() const noexcept { return names_; }
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }
  // The class of `pitch` (0..127), or kUnmapped.
  [[nodiscard]] std::int16_t class_of(std::uint8_t pitch) const noexcept {
    return pitch < 128 ? class_of_[pitch] : kUnmapped;
  }
  [[nodiscard]] std::vector<std::pair<std::string, std::vector<int>>> classes() const;

 private:
  std::string name_;
  std::vector<std::string> names_;
  std::array<std::int16_t, 128> class_of_{};
};

}  // namespace cadence::drums
