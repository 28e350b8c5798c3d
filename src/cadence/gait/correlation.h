// Pearson correlation between the feature columns of one subject x task group, over every point
// of every cycle (the guide's `feature_correlations` / numba `fast_correlation_matrix`).
//
// One pass over the columns: rows are taken in blocks of kBlockRows, each block is converted to
// double, centred on its own mean and its co-moment matrix computed in registers; blocks are
// merged with Chan et al.'s pairwise update (means and co-moments), so there is no
// sum-of-squares cancellation however large the offset. Chunks of blocks run on the job's
// workers and are merged in chunk order: the same bits for any number of threads.
//
// NaN policy (as the per-cycle statistics): kPropagate, a NaN in a feature makes its row and
// column NaN (numpy.corrcoef); kOmit, each pair uses the rows where both values are present
// (pandas DataFrame.corr), computed exactly for the columns that hold a NaN. A feature with zero
// variance (or fewer than 2 points) correlates as NaN, as numpy does.
#pragma once

#include <cstdint>
#include <vector>

#include "cadence/gait/cycle_stats.h"
#include "cadence/gait/group_analysis.h"
#include "cadence/runtime/job.h"

namespace cadence::gait {

inline constexpr int kCorrelationBlockRows = 256;

// Row-major features x features matrix; `rows` values of every column are read. simd_width: 0
// for this CPU's (lanes::simd_width()); 4 or 8 forces the kernels of that build, which give the
// same bits (tests check it).
std::vector<double> feature_correlations(const std::vector<ColumnView>& columns, std::int64_t rows,
                                         NanPolicy policy, runtime::Job& job, int simd_width = 0);
// The same over the rows of several parts taken together (e.g. every subject of a task), each
// part its own columns: nothing is concatenated. Parts are chunked separately, so the bits equal
// the one-part call's only when there is one part.
std::vector<double> feature_correlations(const std::vector<std::vector<ColumnView>>& parts,
                                         const std::vector<std::int64_t>& part_rows, NanPolicy policy,
                                         runtime::Job& job, int simd_width = 0);

}  // namespace cadence::gait
