// Merging simultaneous hits into onsets. A drummer's "simultaneous" kick and crash land a few
// milliseconds apart; a transcription model wants one onset with both labels. Hits are sorted
// by time first (the seed pipeline grouped unsorted notes, so its groups depended on file
// order), then each hit within `merge_s` of the FIRST hit of the current group joins it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "cadence/drums/class_map.h"

namespace cadence::drums {

struct Hit {
  double onset_s;
  std::uint8_t pitch;
  std::uint8_t velocity;
};

struct Onset {
  double onset_s;                      // the group's first hit
  std::vector<std::uint8_t> pitches;   // every hit, in time order (ties: by pitch)
  std::vector<std::uint8_t> velocities;
  std::vector<std::uint8_t> multi_hot;       // per class: 1 if any hit maps to it
  std::vector<std::uint8_t> class_velocity;  // per class: the loudest hit's velocity
  std::uint16_t unmapped_hits = 0;
};

struct MergeStats {
  std::int64_t hits = 0;
  std::int64_t unmapped_hits = 0;
  std::array<std::int64_t, 128> unmapped_by_pitch{};
};

std::vector<Onset> merge_hits(std::vector<Hit> hits, double merge_s, const ClassMap& map,
                              MergeStats* stats = nullptr);

}  // namespace cadence::drums
