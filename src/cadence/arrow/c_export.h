// Export of cadence::arrow arrays through the Arrow C Data Interface. The exported structs
// share the array's buffers (no copy) and keep them alive until the consumer calls release,
// so pyarrow can outlive the engine objects that built the data.
#pragma once

#include <string>

#include "cadence/arrow/array.h"
#include "cadence/arrow/c_abi.h"

namespace cadence::arrow {

// Fills `out` (which must be released or moved by the caller's consumer). Children are
// exported as independently releasable structs, as the spec allows consumers to move them.
void export_array(const ArrayPtr& array, ArrowArray* out);

// Fills `out` with the schema of `array` under `name`.
void export_schema(const Array& array, const std::string& name, bool nullable, ArrowSchema* out);

// Number of exported ArrowArray/ArrowSchema structs not yet released; tests use it to prove
// that every release callback ran (no leaks, no double release).
long live_exports() noexcept;

}  // namespace cadence::arrow
