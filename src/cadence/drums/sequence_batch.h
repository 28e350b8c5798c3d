// A batch of sequence examples in one pass on the job's threads: per window, read (decode) its
// audio, compute its features and its frame targets, so that each window's samples are still in
// cache when they are transformed and the batch has a single fork/join. (On the 2-core VM it
// measured on par with two passes, audio then features: the difference is below the noise.)
#pragma once

#include <cstddef>
#include <cstdint>

#include "cadence/drums/audio_store.h"
#include "cadence/drums/sequence_targets.h"
#include "cadence/kernels/spectrogram.h"
#include "cadence/runtime/job.h"

namespace cadence::drums {

struct SequenceBatchOut {
  float* audio = nullptr;                // count x grid.n_samples
  float* features = nullptr;             // count x n_frames x n_bands; null: no features
  float* onset_roll = nullptr;           // count x n_frames x n_classes
  std::uint8_t* velocity_roll = nullptr;  // count x n_frames x n_classes
};

// Windows (files[i], starts[i]) of grid.n_samples samples. `spectrogram` may be null (no
// features); when given, its n_frames(grid.n_samples) must equal grid.n_frames().
void read_sequence_batch(const AudioStore& store, const kernels::Spectrogram* spectrogram, const OnsetTable& table,
                         const std::int64_t* files, const std::int64_t* starts, std::size_t count,
                         const FrameGrid& grid, const float* widening, std::size_t n_widening,
                         const SequenceBatchOut& out, runtime::Job& job);

}  // namespace cadence::drums
