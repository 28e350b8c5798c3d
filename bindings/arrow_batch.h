// The Python-visible handle for a record batch built by the engine. It speaks the Arrow
// PyCapsule protocol (__arrow_c_schema__, __arrow_c_array__, __arrow_c_stream__), so
// pyarrow.record_batch(x), pyarrow.table(x), Polars and DuckDB take it without a copy.
#pragma once

#include "cadence/arrow/array.h"

namespace cadence::bindings {

struct ArrowBatch {
  arrow::ArrayPtr array;  // a struct array: the batch's columns
};

}  // namespace cadence::bindings
