// An Arrow C Stream over record batches produced on demand: the way a pipeline streams results
// (possibly larger than memory) into pyarrow, Polars or DuckDB one batch at a time.
#pragma once

#include <functional>
#include <vector>

#include "cadence/arrow/array.h"
#include "cadence/arrow/c_abi.h"

namespace cadence::arrow {

// Returns the next record batch (a struct array), or nullptr at the end. May throw: the
// message reaches the consumer through get_last_error and the stream reports EIO.
using BatchSource = std::function<ArrayPtr()>;

// `schema` is any struct array with the stream's columns (an empty batch will do); every
// batch from `next` must have the same column types.
void export_stream(ArrayPtr schema, BatchSource next, ArrowArrayStream* out);

// A stream over batches already in memory.
void export_stream(ArrayPtr schema, std::vector<ArrayPtr> batches, ArrowArrayStream* out);

}  // namespace cadence::arrow
