#include "cadence/drums/onset_merge.h"

#include <algorithm>

namespace cadence::drums {

std::vector<Onset> merge_hits(std::vector<Hit> hits, double merge_s, const ClassMap& map,
                              MergeStats* stats) {
  std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.onset_s < b.onset_s || (a.onset_s == b.onset_s && a.pitch < b.pitch);
  });
  std::vector<Onset> out;
  const std::size_t n_classes = map.size();
  for (const Hit& h : hits) {
    if (out.empty() || h.onset_s - out.back().onset_s > merge_s) {
      Onset o;
      o.onset_s = h.onset_s;
      o.multi_hot.assign(n_classes, 0);
      o.class_velocity.assign(n_classes, 0);
      out.push_back(std::move(o));
    }
    Onset& o = out.back();
    o.pitches.push_back(h.pitch);
    o.velocities.push_back(h.velocity);
    const auto c = map.class_of(h.pitch);
    if (c == ClassMap::kUnmapped) {
      ++o.unmapped_hits;
      if (stats) {
        ++stats->unmapped_hits;
        ++stats->unmapped_by_pitch[h.pitch & 0x7f];
      }
    } else {
      o.multi_hot[static_cast<std::size_t>(c)] = 1;
      auto& v = o.class_velocity[static_cast<std::size_t>(c)];
      v = std::max(v, h.velocity);
    }
  }
  if (stats) stats->hits += static_cast<std::int64_t>(hits.size());
  return out;
}

}  // namespace cadence::drums
