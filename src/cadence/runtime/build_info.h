// What this build of the engine is made of: the versions of the native libraries it links, where
// they came from (the system's or the vendored sources) and the SIMD paths this CPU takes. Shown
// by `cadence --version` and cadence.build_info(), so a bug report says which build ran.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cadence::runtime {

// (name, value) pairs in a fixed order; values are plain text.
std::vector<std::pair<std::string, std::string>> build_info();

}  // namespace cadence::runtime
