#include "cadence/drums/class_map.h"

#include <algorithm>
#include <stdexcept>

namespace cadence::drums {

namespace {

using Classes = std::vector<std::pair<std::string, std::vector<int>>>;

// GMD 9-class (Groove paper; Magenta music_vae; mirdata).
const Classes kGmd9 = {
    {"kick", {36}},          {"snare", {38, 37, 40}},        {"closed_hh", {42, 22, 44}},
    {"open_hh", {46, 26}},   {"low_tom", {43, 58}},          {"mid_tom", {47, 45}},
    {"high_tom", {50, 48}},  {"crash", {49, 52, 55, 57}},    {"ride", {51, 53, 59}},
};
// Magenta onsets-frames drums config, 8 hits.
const Classes kMagenta8 = {
    {"kick", {36}},
    {"snare", {38, 40, 37, 39}},
    {"toms", {48, 50, 45, 47, 43, 58, 64}},
    {"hh", {46, 26, 42, 22, 44, 54, 70}},
    {"ride", {51, 59}},
    {"bell", {53, 56}},
    {"crash", {49, 55, 57, 52}},
    {"clave", {75}},
};
// Magenta 3-hit: the 8-hit classes folded into kick / snare+toms / cymbals+hats.
const Classes kMagenta3 = {
    {"kick", {36}},
    {"snare_toms", {38, 40, 37, 39, 48, 50, 45, 47, 43, 58, 64}},
    {"cymbals_hats", {46, 26, 42, 22, 44, 54, 70, 51, 59, 53, 56, 49, 55, 57, 52}},
};
// ADTOF's default 5 classes (BD, SD, TT, HH, CY+RD), on the TD-17 pitches E-GMD uses.
const Classes kAdtof5 = {
    {"bass_drum", {35, 36}},
    {"snare", {38, 40, 37, 39}},
    {"toms", {41, 43, 45, 47, 48, 50, 58}},
    {"hihat", {42, 22, 44, 46, 26}},
    {"cymbals_ride", {49, 51, 52, 53, 55, 57, 59}},
};

Classes raw_classes() {
  Classes c;
  for (int p = 0; p < 128; ++p) c.push_back({"pitch_" + std::to_string(p), {p}});
  return c;
}

}  // namespace

ClassMap::ClassMap(std::string name, const Classes& classes) : name_(std::move(name)) {
  class_of_.fill(kUnmapped);
  if (classes.empty()) throw std::invalid_argument("class map '" + name_ + "' has no classes");
  if (classes.size() > 32767) throw std::invalid_argument("class map '" + name_ + "' has too many classes");
  for (std::size_t c = 0; c < classes.size(); ++c) {
    const auto& [class_name, pitches] = classes[c];
    // Two classes of one name would be two label columns no one can tell apart.
    if (std::find(names_.begin(), names_.end(), class_name) != names_.end())
      throw std::invalid_argument("class map '" + name_ + "': class name '" + class_name +
                                  "' is used twice");
    names_.push_back(class_name);
    for (int p : pitches) {
      if (p < 0 || p > 127)
        throw std::invalid_argument("class map '" + name_ + "': class '" + class_name +
                                    "' lists pitch " + std::to_string(p) + ", outside 0..127");
      if (class_of_[p] == static_cast<std::int16_t>(c))  // not "in both 'kick' and 'kick'"
        throw std::invalid_argument("class map '" + name_ + "': class '" + class_name +
                                    "' lists pitch " + std::to_string(p) + " twice");
      if (class_of_[p] != kUnmapped)
        throw std::invalid_argument("class map '" + name_ + "': pitch " + std::to_string(p) +
                                    " is in both '" + names_[class_of_[p]] + "' and '" +
                                    class_name + "'");
      class_of_[p] = static_cast<std::int16_t>(c);
    }
  }
}

ClassMap ClassMap::builtin(const std::string& scheme) {
  if (scheme == "gmd9") return ClassMap(scheme, kGmd9);
  if (scheme == "magenta8") return ClassMap(scheme, kMagenta8);
  if (scheme == "magenta3") return ClassMap(scheme, kMagenta3);
  if (scheme == "adtof5") return ClassMap(scheme, kAdtof5);
  if (scheme == "raw") return ClassMap(scheme, raw_classes());
  std::string known;
  for (const auto& n : builtin_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown class mapping '" + scheme + "'; built-in ones: " + known +
                              " (or give a mapping file)");
}

std::vector<std::string> ClassMap::builtin_names() {
  return {"gmd9", "magenta8", "magenta3", "adtof5", "raw"};
}

Classes ClassMap::classes() const {
  Classes out;
  for (const auto& n : names_) out.push_back({n, {}});
  for (int p = 0; p < 128; ++p)
    if (class_of_[p] != kUnmapped) out[static_cast<std::size_t>(class_of_[p])].second.push_back(p);
  return out;
}

}  // namespace cadence::drums
