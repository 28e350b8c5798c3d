// Test support (not in the engine library or the shipped extension): tests/support/CMakeLists.txt.
// A record batch with one column of every type the exporter supports, its values given by
// simple formulas of the row index (documented in type_zoo.cpp). The C++ tests and the Python
// round-trip test (which recomputes the formulas independently) both use it.
#pragma once

#include <cstdint>

#include "cadence/arrow/array.h"

namespace cadence::arrow {

ArrayPtr type_zoo(std::int64_t n_rows);

}  // namespace cadence::arrow
