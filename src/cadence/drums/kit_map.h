// A kit map: one annotation file's note pitches rewritten to General MIDI before the class map.
// Slakh2100 renders each drum stem with a Kontakt kit (metadata.yaml's plugin_name) whose keys
// are not all GM: funk_kit.nkm plays a ride bell on 54 and a hi tom on 52-53, and some keys
// play a pattern (60: a kick and a closed hi-hat at once). ADTOF's SLAKH2100_MIDI lists, per
// kit, the GM pitch(es) each key sounds as (python/cadence/drums/kit_maps.py holds the tables;
// Python picks the one of each file). A key maps to one or more pitches: each becomes a hit at
// the note's time and velocity. A key the table lacks is kept as it is, as ADTOF's reader does.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cadence/drums/onset_merge.h"

namespace cadence::drums {

// Empty: no remapping. Otherwise 128 entries, entry p the pitches key p sounds as (never empty).
using KitMap = std::vector<std::vector<std::uint8_t>>;

// Throws std::invalid_argument unless `map` is empty or 128 non-empty lists of pitches 0..127.
inline KitMap checked_kit_map(const std::vector<std::vector<int>>& map) {
  if (map.empty()) return {};
  if (map.size() != 128)
    throw std::invalid_argument("a kit map has 128 entries (one per MIDI key), not " + std::to_string(map.size()));
  KitMap out(128);
  for (std::size_t p = 0; p < 128; ++p) {
    if (map[p].empty()) throw std::invalid_argument("kit map entry " + std::to_string(p) + " lists no pitch");
    for (int q : map[p]) {
      if (q < 0 || q > 127)
        throw std::invalid_argument("kit map entry " + std::to_string(p) + ": pitch " + std::to_string(q) +
                                    " is not in 0..127");
      out[p].push_back(static_cast<std::uint8_t>(q));
    }
  }
  return out;
}

// Appends `h` to `into` as the kit map says (unchanged when the map is empty).
inline void push_mapped(std::vector<Hit>& into, const Hit& h, const KitMap& map) {
  if (map.empty()) {
    into.push_back(h);
    return;
  }
  for (std::uint8_t p : map[h.pitch & 0x7f]) into.push_back({h.onset_s, p, h.velocity});
}

}  // namespace cadence::drums
