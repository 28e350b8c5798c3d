#include "cadence/drums/sequence_batch.h"

#include <stdexcept>

namespace cadence::drums {

void read_sequence_batch(const AudioStore& store, const kernels::Spectrogram* spectrogram, const OnsetTable& table,
                         const std::int64_t* files, const std::int64_t* starts, std::size_t count,
                         const FrameGrid& grid, const float* widening, std::size_t n_widening,
                         const SequenceBatchOut& out, runtime::Job& job) {
  if (spectrogram && spectrogram->n_frames(grid.n_samples) != grid.n_frames())
    throw std::invalid_argument("sequence batch: the spectrogram's frames differ from the targets' frames");
  for (std::size_t i = 0; i < count; ++i)
    if (files[i] < 0 || static_cast<std::size_t>(files[i]) >= table.n_files)
      throw std::out_of_range("sequence batch: file " + std::to_string(files[i]) + " not in the index of " +
                              std::to_string(table.n_files) + " files");
  const auto n = static_cast<std::size_t>(grid.n_samples);
  const auto rolls = static_cast<std::size_t>(grid.n_frames()) * static_cast<std::size_t>(table.n_classes);
  const std::size_t feats = spectrogram ? static_cast<std::size_t>(grid.n_frames()) * spectrogram->n_bands() : 0;
  auto one = [&](std::size_t i) {
    float* audio = out.audio + i * n;
    store.read(files[i], starts[i], grid.n_samples, audio);
    if (spectrogram) spectrogram->compute(audio, grid.n_samples, out.features + i * feats);
    sequence_targets(table, files + i, starts + i, 1, grid, widening, n_widening, out.onset_roll + i * rolls,
                     out.velocity_roll + i * rolls);
  };
  job.for_each(count, one);
}

}  // namespace cadence::drums
