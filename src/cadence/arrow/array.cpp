#include "cadence/arrow/array.h"

// GCC 12 at -O3 warns about std::string concatenation in the error messages below; a known
// false positive (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <stdexcept>
#include <type_traits>

namespace cadence::arrow {

namespace {

// Packs one byte per element into an LSB-first bitmap, the layout the spec requires.
std::vector<std::uint8_t> pack_bits(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::uint8_t> bits((bytes.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i]) bits[i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
  return bits;
}

// Fills the validity buffer and null count; an all-valid array gets no bitmap at all.
void set_validity(Array& a, const Validity& valid) {
  a.buffers.insert(a.buffers.begin(), Buffer{});
  if (valid.empty()) return;
  if (static_cast<std::int64_t>(valid.size()) != a.length)
    throw std::invalid_argument("arrow: validity length " + std::to_string(valid.size()) +
                                " != array length " + std::to_string(a.length));
  std::int64_t nulls = 0;
  for (auto v : valid) nulls += v ? 0 : 1;
  a.null_count = nulls;
  if (nulls > 0) a.buffers[0] = Buffer::from_vector(pack_bits(valid));
}

template <class Offset>
ArrayPtr variable_binary(const std::vector<std::string>& values, const Validity& valid,
                         const char* format) {
  std::vector<Offset> offsets;
  offsets.reserve(values.size() + 1);
  offsets.push_back(0);
  std::size_t total = 0;
  for (const auto& v : values) total += v.size();
  if constexpr (sizeof(Offset) == 4) {
    if (total > 0x7fffffffu)
      throw std::length_error("arrow: more than 2 GiB of string data; use the large type");
  }
  std::vector<char> data;
  data.reserve(total);
  for (const auto& v : values) {
    data.insert(data.end(), v.begin(), v.end());
    offsets.push_back(static_cast<Offset>(data.size()));
  }
  auto a = std::make_shared<Array>();
  a->format = format;
  a->length = static_cast<std::int64_t>(values.size());
  a->buffers = {Buffer::from_vector(std::move(offsets)), Buffer::from_vector(std::move(data))};
  set_validity(*a, valid);
  return a;
}

template <class Offset>
ArrayPtr offset_list(std::vector<Offset> offsets, ArrayPtr child, const Validity& valid,
                     const char* format) {
  if (offsets.empty()) throw std::invalid_argument("arrow: list offsets need length + 1 entries");
  if (offsets.back() != static_cast<Offset>(child->length))
    throw std::invalid_argument("arrow: last list offset != child length");
  // The spec requires offsets >= 0 and non-decreasing; a consumer trusts them to slice the
  // child, so e.g. {0, 5, 2} would have it read past the child's end (found by
  // fuzz/arrow_fuzz.cpp: such offsets were exported as they came).
  if (offsets.front() < 0) throw std::invalid_argument("arrow: negative first list offset");
  for (std::size_t i = 1; i < offsets.size(); ++i)
    if (offsets[i] < offsets[i - 1])
      throw std::invalid_argument("arrow: list offsets decrease at row " + std::to_string(i - 1));
  auto a = std::make_shared<Array>();
  a->format = format;
  a->length = static_cast<std::int64_t>(offsets.size()) - 1;
  a->buffers = {Buffer::from_vector(std::move(offsets))};
  a->children = {Field{"item", std::move(child), true}};
  set_validity(*a, valid);
  return a;
}

}  // namespace

template <class T>
ArrayPtr primitive(std::vector<T> values, const Validity& valid) {
  auto a = std::make_shared<Array>();
  a->format = std::string(format_of<T>());
  a->length = static_cast<std::int64_t>(values.size());
  a->buffers = {Buffer::from_vector(std::move(values))};
  set_validity(*a, valid);
  return a;
}

template ArrayPtr primitive(std::vector<std::int8_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::uint8_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::int16_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::uint16_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::int32_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::uint32_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::int64_t>, const Validity&);
template ArrayPtr primitive(std::vector<std::uint64_t>, const Validity&);
template ArrayPtr primitive(std::vector<float>, const Validity&);
template ArrayPtr primitive(std::vector<double>, const Validity&);

ArrayPtr float16(std::vector<std::uint16_t> bits, const Validity& valid) {
  auto a = std::make_shared<Array>();
  a->format = "e";
  a->length = static_cast<std::int64_t>(bits.size());
  a->buffers = {Buffer::from_vector(std::move(bits))};
  set_validity(*a, valid);
  return a;
}

ArrayPtr boolean(const std::vector<std::uint8_t>& values, const Validity& valid) {
  auto a = std::make_shared<Array>();
  a->format = "b";
  a->length = static_cast<std::int64_t>(values.size());
  a->buffers = {Buffer::from_vector(pack_bits(values))};
  set_validity(*a, valid);
  return a;
}

ArrayPtr utf8(const std::vector<std::string>& v, const Validity& valid) {
  return variable_binary<std::int32_t>(v, valid, "u");
}
ArrayPtr large_utf8(const std::vector<std::string>& v, const Validity& valid) {
  return variable_binary<std::int64_t>(v, valid, "U");
}
ArrayPtr binary(const std::vector<std::string>& v, const Validity& valid) {
  return variable_binary<std::int32_t>(v, valid, "z");
}
ArrayPtr large_binary(const std::vector<std::string>& v, const Validity& valid) {
  return variable_binary<std::int64_t>(v, valid, "Z");
}

ArrayPtr large_binary(std::vector<std::int64_t> offsets, std::string data) {
  if (offsets.empty() || offsets.front() != 0 ||
      offsets.back() != static_cast<std::int64_t>(data.size()))
    throw std::invalid_argument("arrow: binary offsets must start at 0 and end at the data size");
  auto a = std::make_shared<Array>();
  a->format = "Z";
  a->length = static_cast<std::int64_t>(offsets.size()) - 1;
  auto owned = std::make_shared<std::string>(std::move(data));
  a->buffers = {Buffer{}, Buffer::from_vector(std::move(offsets)),
                Buffer{owned->data(), static_cast<std::int64_t>(owned->size()), owned}};
  return a;
}

ArrayPtr list(std::vector<std::int32_t> offsets, ArrayPtr child, const Validity& valid) {
  return offset_list(std::move(offsets), std::move(child), valid, "+l");
}
ArrayPtr large_list(std::vector<std::int64_t> offsets, ArrayPtr child, const Validity& valid) {
  return offset_list(std::move(offsets), std::move(child), valid, "+L");
}

ArrayPtr fixed_size_list(std::int32_t list_size, ArrayPtr child, const Validity& valid) {
  if (list_size <= 0 || child->length % list_size != 0)
    throw std::invalid_argument("arrow: fixed-size list child length is not a multiple of " +
                                std::to_string(list_size));
  auto a = std::make_shared<Array>();
  a->format = "+w:" + std::to_string(list_size);
  a->length = child->length / list_size;
  a->children = {Field{"item", std::move(child), true}};
  set_validity(*a, valid);
  return a;
}

ArrayPtr dictionary_utf8(std::vector<std::int32_t> indices,
                         const std::vector<std::string>& dictionary_values,
                         const Validity& valid) {
  const auto n_values = static_cast<std::int32_t>(dictionary_values.size());
  // Checked before the loop below reads valid[i] (it read past a shorter validity vector;
  // found by fuzz/arrow_fuzz.cpp); set_validity's own check comes too late for that.
  if (!valid.empty() && valid.size() != indices.size())
    throw std::invalid_argument("arrow: validity length " + std::to_string(valid.size()) +
                                " != array length " + std::to_string(indices.size()));
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const bool is_null = !valid.empty() && !valid[i];
    if (!is_null && (indices[i] < 0 || indices[i] >= n_values))
      throw std::out_of_range("arrow: dictionary index " + std::to_string(indices[i]) +
                              " at row " + std::to_string(i) + " outside [0, " +
                              std::to_string(n_values) + ")");
  }
  auto a = std::make_shared<Array>();
  a->format = "i";
  a->length = static_cast<std::int64_t>(indices.size());
  a->buffers = {Buffer::from_vector(std::move(indices))};
  a->dictionary = utf8(dictionary_values);
  set_validity(*a, valid);
  return a;
}

ArrayPtr struct_array(std::vector<Field> fields) {
  auto a = std::make_shared<Array>();
  a->format = "+s";
  a->length = fields.empty() ? 0 : fields.front().array->length;
  for (const auto& f : fields)
    if (f.array->length != a->length)
      throw std::invalid_argument("arrow: column '" + f.name + "' has " +
                                  std::to_string(f.array->length) + " rows, expected " +
                                  std::to_string(a->length));
  a->children = std::move(fields);
  a->buffers = {Buffer{}};  // a struct has only its (absent) validity bitmap
  return a;
}

}  // namespace cadence::arrow
