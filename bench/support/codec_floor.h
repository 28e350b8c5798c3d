// Benchmark support (not in the engine library or the shipped extension): bench/support/CMakeLists.txt.
// The "codec floor" of the clips layout: libFLAC alone encoding given clip samples on the job's
// workers, nothing else (no MIDI, no decoding, no resampling, no Parquet). The benchmark times
// this against a full prepare run of the same clips: the pipeline's overhead over the codec.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cadence/runtime/job.h"

namespace cadence::drums {

// Encodes each of `rows` clips of `cols` samples (row-major) as 16-bit FLAC; returns the total
// encoded bytes (so the work cannot be optimised away and sizes can be compared).
std::uint64_t encode_clips_floor(const float* clips, std::size_t rows, std::size_t cols,
                                 int sample_rate_hz, int flac_level, runtime::Job& job);

}  // namespace cadence::drums
