// Frame-level targets of a sequence window, from the onset index: which frame each onset falls
// in, an onset roll (frames x classes; 1 on an onset's frame, optionally widened to its
// neighbours with smaller weights, as ADTOF's target widening) and a velocity roll (the loudest
// MIDI velocity of a class on that frame).
//
// Frame rule (librosa.samples_to_frames / time_to_frames, no offset): frame t of a window that
// starts at sample s0 covers samples [s0 + t * hop, s0 + (t + 1) * hop); with center padding
// frame t is the spectrogram frame *centred* on s0 + t * hop, so an onset lies in the first half
// of its frame's analysis window's right side. Onsets outside [s0, s0 + n_samples) are not in the
// window; n_frames is librosa's 1 + n_samples / hop (the last frame may hold no sample).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cadence::drums {

// The records of every file, sorted by (file, onset_sample); file f's records are
// [file_begin[f], file_begin[f + 1]).
struct OnsetTable {
  const std::int64_t* onset_sample = nullptr;
  const std::uint8_t* classes = nullptr;         // n_records x n_classes, 0/1
  const std::uint8_t* class_velocity = nullptr;  // n_records x n_classes
  const std::int64_t* file_begin = nullptr;      // n_files + 1
  std::size_t n_files = 0;
  int n_classes = 0;
};

struct FrameGrid {
  std::int64_t n_samples = 0;    // window length
  std::int64_t hop_samples = 1;  // samples per frame
  [[nodiscard]] std::int64_t n_frames() const noexcept { return 1 + n_samples / hop_samples; }
};

// The frame of an onset `offset_samples` after the window's first sample (floor division, so a
// negative offset gives a negative frame).
std::int64_t onset_frame(std::int64_t offset_samples, std::int64_t hop_samples) noexcept;

// For `count` windows (file, first sample): onset_roll (count x n_frames x n_classes) and
// velocity_roll (same shape), both filled completely. widening[d - 1] is the weight of the
// frames d away from an onset (0 < weight <= 1); a frame keeps the largest weight it gets.
// Throws std::out_of_range on a file number outside the table.
void sequence_targets(const OnsetTable& table, const std::int64_t* files, const std::int64_t* starts,
                      std::size_t count, const FrameGrid& grid, const float* widening, std::size_t n_widening,
                      float* onset_roll, std::uint8_t* velocity_roll);

}  // namespace cadence::drums
