// An immutable, shareable Arrow array tree: the in-memory form the engine builds its outputs in
// before handing them to pyarrow through the C Data Interface (c_export.h). Buffers keep their
// owner alive through a shared_ptr, so a std::vector built by a worker is exported without a
// copy. Builders below cover the column types our pipelines emit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cadence::arrow {

struct Buffer {
  const void* data = nullptr;
  std::int64_t size_bytes = 0;
  std::shared_ptr<const void> owner;  // keeps `data` alive

  // Takes ownership of `values` without copying them.
  template <class T>
  static Buffer from_vector(std::vector<T>&& values) {
    auto owned = std::make_shared<std::vector<T>>(std::move(values));
    return {owned->data(), static_cast<std::int64_t>(owned->size() * sizeof(T)), owned};
  }
};

struct Array;
using ArrayPtr = std::shared_ptr<const Array>;

struct Field {
  std::string name;
  ArrayPtr array;
  bool nullable = true;
};

struct Array {
  std::string format;  // the C Data Interface format string, e.g. "i", "+l", "+w:150"
  std::int64_t length = 0;
  std::int64_t null_count = 0;
  std::vector<Buffer> buffers;  // in the spec's order; buffers[0] is the validity bitmap
  std::vector<Field> children;
  ArrayPtr dictionary;  // set for dictionary-encoded arrays (format = the index type)
};

// Per-element validity for the builders: empty means all valid; otherwise one entry per
// element, 0 = null.
using Validity = std::vector<std::uint8_t>;

template <class T>
ArrayPtr primitive(std::vector<T> values, const Validity& valid = {});
// IEEE half floats given as their 16-bit patterns (format "e").
ArrayPtr float16(std::vector<std::uint16_t> bits, const Validity& valid = {});
ArrayPtr boolean(const std::vector<std::uint8_t>& values, const Validity& valid = {});
ArrayPtr utf8(const std::vector<std::string>& values, const Validity& valid = {});
ArrayPtr large_utf8(const std::vector<std::string>& values, const Validity& valid = {});
ArrayPtr binary(const std::vector<std::string>& values, const Validity& valid = {});
ArrayPtr large_binary(const std::vector<std::string>& values, const Validity& valid = {});
// Variable-length binary from ready-made offsets (length + 1 entries) and bytes: lets a producer
// append values into one buffer instead of first holding them as separate strings.
ArrayPtr large_binary(std::vector<std::int64_t> offsets, std::string data);
// offsets.size() == length + 1, offsets.back() == child length.
ArrayPtr list(std::vector<std::int32_t> offsets, ArrayPtr child, const Validity& valid = {});
ArrayPtr large_list(std::vector<std::int64_t> offsets, ArrayPtr child, const Validity& valid = {});
// child length == list_size * length.
ArrayPtr fixed_size_list(std::int32_t list_size, ArrayPtr child, const Validity& valid = {});
// Dictionary-encoded strings: int32 indices into `dictionary_values` (utf8).
ArrayPtr dictionary_utf8(std::vector<std::int32_t> indices,
                         const std::vector<std::string>& dictionary_values,
                         const Validity& valid = {});
// A struct array: also the shape of a record batch. All fields must have equal length.
ArrayPtr struct_array(std::vector<Field> fields);

// The format string for a C++ arithmetic type ("c" for int8_t ... "g" for double).
template <class T>
constexpr std::string_view format_of() {
  if constexpr (std::is_same_v<T, std::int8_t>) return "c";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "C";
  else if constexpr (std::is_same_v<T, std::int16_t>) return "s";
  else if constexpr (std::is_same_v<T, std::uint16_t>) return "S";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "i";
  else if constexpr (std::is_same_v<T, std::uint32_t>) return "I";
  else if constexpr (std::is_same_v<T, std::int64_t>) return "l";
  else if constexpr (std::is_same_v<T, std::uint64_t>) return "L";
  else if constexpr (std::is_same_v<T, float>) return "f";
  else if constexpr (std::is_same_v<T, double>) return "g";
  else static_assert(sizeof(T) == 0, "no Arrow format for this type");
}

}  // namespace cadence::arrow
