// libFuzzer target: ClassMap built from fuzzed (name, pitches) lists, as a user mapping file
// reaches it (python/cadence/drums/class_maps.py hands the JSON's lists over unchanged). A list
// must either be accepted, with class_of() and classes() agreeing with it exactly, or be
// refused with std::invalid_argument for the first reason the contract names (no classes, a
// class name used twice, a pitch outside 0..127, listed twice in a class or in two classes).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cadence/drums/class_map.h"

#include "check.h"

using cadence::drums::ClassMap;
using Classes = std::vector<std::pair<std::string, std::vector<int>>>;

namespace {

// Checks every promise a constructed map makes about the lists it was built from.
void check_map(const ClassMap& m, const Classes& in) {
  CHECK(m.size() == in.size());
  CHECK(m.class_names().size() == in.size());
  int mapped = 0;
  for (std::size_t c = 0; c < in.size(); ++c) {
    CHECK(m.class_names()[c] == in[c].first);
    for (int p : in[c].second) CHECK(m.class_of(static_cast<std::uint8_t>(p)) == static_cast<std::int16_t>(c));
  }
  for (int p = 0; p < 256; ++p) {
    const std::int16_t c = m.class_of(static_cast<std::uint8_t>(p));
    if (p >= 128) {
      CHECK(c == ClassMap::kUnmapped);
      continue;
    }
    CHECK(c == ClassMap::kUnmapped || (c >= 0 && static_cast<std::size_t>(c) < m.size()));
    mapped += c != ClassMap::kUnmapped;
  }
  // classes(): the same names in order, each pitch ascending and in the class class_of says.
  const Classes out = m.classes();
  CHECK(out.size() == in.size());
  int listed = 0;
  for (std::size_t c = 0; c < out.size(); ++c) {
    CHECK(out[c].first == in[c].first);
    const std::set<int> given(in[c].second.begin(), in[c].second.end());
    CHECK(std::set<int>(out[c].second.begin(), out[c].second.end()) == given);
    for (std::size_t i = 0; i < out[c].second.size(); ++i) {
      const int p = out[c].second[i];
      CHECK(m.class_of(static_cast<std::uint8_t>(p)) == static_cast<std::int16_t>(c));
      if (i > 0) CHECK(out[c].second[i - 1] < p);
      ++listed;
    }
  }
  CHECK(listed == mapped);
  // Round trip: the map rebuilt from classes() is the same map.
  const ClassMap again(m.name(), out);
  for (int p = 0; p < 128; ++p)
    CHECK(again.class_of(static_cast<std::uint8_t>(p)) == m.class_of(static_cast<std::uint8_t>(p)));
}

// Why the contract refuses `in`, or nullptr if it must be accepted.
const char* expected_refusal(const Classes& in) {
  if (in.empty()) return "no classes";
  if (in.size() > 32767) return "too many classes";
  std::set<std::string> names;
  std::set<int> seen;
  for (const auto& [name, pitches] : in) {
    if (!names.insert(name).second) return "is used twice";
    std::set<int> here;
    for (int p : pitches) {
      if (p < 0 || p > 127) return "outside 0..127";
      if (!here.insert(p).second) return "twice";
      if (!seen.insert(p).second) return "is in both";
    }
  }
  return nullptr;
}

// A name without NUL bytes: what() is a C string, so a message would end at the first one.
std::string consume_name(FuzzedDataProvider& fdp, std::size_t max_length) {
  std::string s = fdp.ConsumeRandomLengthString(max_length);
  for (char& c : s)
    if (c == '\0') c = '?';
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool builtins_ok = [] {
    for (const auto& name : ClassMap::builtin_names()) {
      const ClassMap m = ClassMap::builtin(name);
      check_map(m, m.classes());
    }
    return true;
  }();
  (void)builtins_ok;

  FuzzedDataProvider fdp(data, size);
  const std::string map_name = consume_name(fdp, 32);
  Classes in(fdp.ConsumeIntegralInRange<std::size_t>(0, 40));
  for (auto& [name, pitches] : in) {
    name = consume_name(fdp, 16);
    pitches.resize(fdp.ConsumeIntegralInRange<std::size_t>(0, 12));
    for (int& p : pitches) {
      // Mostly plausible pitches, sometimes anything an int can hold.
      p = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<int>(-2, 130) : fdp.ConsumeIntegral<int>();
    }
  }
  const char* refusal = expected_refusal(in);
  try {
    const ClassMap m(map_name, in);
    CHECK(refusal == nullptr);
    CHECK(m.name() == map_name);
    check_map(m, in);
  } catch (const std::invalid_argument& e) {
    CHECK(refusal != nullptr);
    const std::string what = e.what();
    if (what.find(refusal) == std::string::npos)
      std::fprintf(stderr, "refused with \"%s\", expected \"%s\"\n", what.c_str(), refusal);
    CHECK(what.find(refusal) != std::string::npos);
    CHECK(what.find("'" + map_name + "'") != std::string::npos);  // names the mapping
  }
  return 0;
}
