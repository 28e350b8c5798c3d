// The engine's fixed lists (enums with a name per code) as Python lists of names, by code, so
// that Python reads them from the engine instead of mirroring them by hand.
#pragma once

#include <string>
#include <vector>

namespace cadence::bindings {

template <class Name>
std::vector<std::string> names_by_code(int count, Name name) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.emplace_back(name(i));
  return names;
}

}  // namespace cadence::bindings
