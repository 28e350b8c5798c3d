// How far a file's audio lies from its MIDI: the onset-strength envelope of the audio is
// cross-correlated with an impulse train of the MIDI onsets over a range of lags, and the peak
// is refined below one envelope frame by parabolic interpolation. A label is only as good as its
// alignment: E-GMD states no tolerance, the TD-17 module adds ~3.6 ms, and one Groove
// performance is known to be misaligned (../shared/DOMAIN.md).
//
// The envelope: the log ratio of the energy in the W samples after a time to the energy in the
// W samples before it (W = 2 ms), half-wave rectified, every 0.5 ms. For an abrupt onset at t0
// it peaks at exactly t0 (the "after" window fills with the hit while the "before" window is
// still the quiet before it), so no fixed bias has to be subtracted. Costs one pass over the
// audio (energies of 0.5 ms blocks) plus (onsets x lags) envelope lookups.
#pragma once

#include <cstddef>
#include <vector>

namespace cadence::drums {

struct AlignmentEstimate {
  bool ok = false;        // false: too few onsets inside the audio, or a silent file
  double offset_s = 0.0;  // audio time - MIDI time: > 0 when the audio comes late
  // Correlation at the peak over the median correlation of all lags: near 1 means no clear
  // peak (the offset is a guess); a well-aligned drum file gives tens.
  double peak_ratio = 0.0;
  int onsets_used = 0;
};

struct AlignmentConfig {
  double search_s = 0.15;  // lags tried: [-search_s, +search_s]
  double hop_s = 0.0005;   // envelope step
  double window_s = 0.002; // W
  int min_onsets = 4;
};

// `audio` is mono at `rate_hz`; `onsets_s` are MIDI onset times in seconds (any order).
AlignmentEstimate estimate_offset(const float* audio, std::size_t n, int rate_hz, const std::vector<double>& onsets_s,
                                  const AlignmentConfig& config = {});

}  // namespace cadence::drums
