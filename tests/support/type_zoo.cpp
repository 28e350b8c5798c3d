#include "type_zoo.h"

#include <string>
#include <vector>

#include "cadence/kernels/float16.h"

namespace cadence::arrow {

namespace {

template <class T, class F>
std::vector<T> make(std::int64_t n, F f) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<T>(f(i));
  return v;
}

}  // namespace

ArrayPtr type_zoo(std::int64_t n) {
  using std::int64_t;
  const std::vector<std::string> drums = {"kick", "snare", "hihat"};
  auto every = [n](int k) { return make<std::uint8_t>(n, [k](int64_t i) { return i % k != 0; }); };
  auto text = make<std::string>(n, [](int64_t i) {
    return "row-" + std::to_string(i) + (i % 2 == 0 ? "\xc3\xbc" : "");  // "ü" on even rows
  });
  auto bytes = make<std::string>(n, [](int64_t i) {
    return std::string(static_cast<std::size_t>(i % 4), static_cast<char>(i % 256));
  });

  // list<int32>: row i holds i % 4 values i, i+1, ...
  std::vector<std::int32_t> list_offsets{0};
  std::vector<std::int32_t> list_values;
  // large_list<float64>: row i holds i % 3 values i*0.5, i*0.5+1, ...
  std::vector<int64_t> large_offsets{0};
  std::vector<double> large_values;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < i % 4; ++k) list_values.push_back(static_cast<std::int32_t>(i + k));
    list_offsets.push_back(static_cast<std::int32_t>(list_values.size()));
    for (int64_t k = 0; k < i % 3; ++k) large_values.push_back(static_cast<double>(i) * 0.5 + k);
    large_offsets.push_back(static_cast<int64_t>(large_values.size()));
  }
  // fixed_size_list<float32, 3>: [i, i + 0.5, i + 0.25]
  std::vector<float> triples;
  for (int64_t i = 0; i < n; ++i)
    for (float d : {0.0f, 0.5f, 0.25f}) triples.push_back(static_cast<float>(i) + d);

  return struct_array({
      {"i8", primitive(make<std::int8_t>(n, [](int64_t i) { return i % 256 - 128; })), false},
      {"u8", primitive(make<std::uint8_t>(n, [](int64_t i) { return (i * 3) % 256; })), false},
      {"i16", primitive(make<std::int16_t>(n, [](int64_t i) { return i * 17 - 1000; })), false},
      {"u16", primitive(make<std::uint16_t>(n, [](int64_t i) { return i * 13; })), false},
      {"i32", primitive(make<std::int32_t>(n, [](int64_t i) { return i * 1000 - 7; })), false},
      {"u32", primitive(make<std::uint32_t>(n, [](int64_t i) { return i * 2654435761LL; })), false},
      {"i64", primitive(make<int64_t>(n, [](int64_t i) { return i * 1000000000000LL - 5; })),
       false},
      {"u64", primitive(make<std::uint64_t>(n, [](int64_t i) { return (i << 40) + 1; })), false},
      {"f16", float16(make<std::uint16_t>(
                  n, [](int64_t i) { return kernels::float_to_half(static_cast<float>(i) * 0.25f); })),
       false},
      {"f32", primitive(make<float>(n, [](int64_t i) { return static_cast<float>(i) * 0.5f - 3; })),
       false},
      {"f64", primitive(make<double>(n, [](int64_t i) { return static_cast<double>(i) / 3.0; })),
       false},
      {"i32_nullable",  // null on every 5th row (i % 5 == 0)
       primitive(make<std::int32_t>(n, [](int64_t i) { return i; }), every(5)), true},
      {"flag", boolean(make<std::uint8_t>(n, [](int64_t i) { return i % 3 == 0; })), false},
      {"text", utf8(text), false},
      {"large_text", large_utf8(text), false},
      {"blob", binary(bytes), false},
      {"large_blob", large_binary(bytes), false},
      {"ints", list(std::move(list_offsets), primitive(std::move(list_values))), false},
      {"doubles", large_list(std::move(large_offsets), primitive(std::move(large_values))),
       false},
      {"xyz", fixed_size_list(3, primitive(std::move(triples))), false},
      {"drum",  // dictionary strings, null on every 7th row
       dictionary_utf8(make<std::int32_t>(n, [](int64_t i) { return i % 3; }), drums, every(7)),
       true},
  });
}

}  // namespace cadence::arrow
