// libFuzzer target: the Arrow C Data / C Stream export round trip. From the fuzzed bytes it
// draws a type tree (every supported type, nested lists, fixed-size lists, dictionaries,
// structs) and values for it (offsets, validity, dictionary indices), sometimes hostile ones
// (wrong lengths, arbitrary offsets, out-of-range indices). A builder must either refuse with a
// std::logic_error (invalid_argument, out_of_range, length_error) or give an array whose export
// satisfies the C Data Interface spec: walk() checks that with nothing but the exported structs
// and the buffer sizes. The structs are then released in a fuzzed order, children moved out
// first as the spec lets consumers do, a moved child read again after its parent is gone (ASan
// sees any buffer freed too early), and live_exports() must come back to where it started.
#include <fuzzer/FuzzedDataProvider.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cadence/arrow/array.h"
#include "cadence/arrow/c_export.h"
#include "cadence/arrow/c_stream.h"

#include "check.h"

namespace ar = cadence::arrow;

namespace {

enum Kind : int {
  kI8, kU8, kI16, kU16, kI32, kU32, kI64, kU64, kF32, kF64, kF16, kBool,
  kUtf8, kLargeUtf8, kBinary, kLargeBinary, kDictUtf8,
  kList, kLargeList, kFixedList, kStruct,  // the nested kinds, last
  kKinds
};

struct Spec {
  Kind kind = kI32;
  std::int32_t list_size = 0;  // fixed-size list
  std::vector<Spec> children;
  std::vector<std::string> names;  // struct field names
  std::vector<bool> nullable;      // struct field flags
};

Spec gen_spec(FuzzedDataProvider& f, int depth) {
  Spec s;
  s.kind = static_cast<Kind>(f.ConsumeIntegralInRange<int>(0, kKinds - 1));
  if (depth >= 3 && s.kind >= kList) s.kind = kI32;
  if (s.kind == kList || s.kind == kLargeList || s.kind == kFixedList) {
    s.children.push_back(gen_spec(f, depth + 1));
    s.list_size = f.ConsumeIntegralInRange<std::int32_t>(1, 4);
  } else if (s.kind == kStruct) {
    const int n = f.ConsumeIntegralInRange<int>(1, 4);
    for (int i = 0; i < n; ++i) {
      s.children.push_back(gen_spec(f, depth + 1));
      s.names.push_back(f.ConsumeRandomLengthString(8));
      for (char& c : s.names.back())  // the C interface's names are C strings
        if (c == '\0') c = '?';
      s.nullable.push_back(f.ConsumeBool());
    }
  }
  return s;
}

// Whether to break a builder's precondition this time (1 in 16 calls, when the input says so).
bool hostile(FuzzedDataProvider& f, bool allow) {
  return allow && f.ConsumeIntegralInRange<int>(0, 15) == 0;
}

ar::Validity gen_validity(FuzzedDataProvider& f, std::int64_t n, bool allow_hostile) {
  if (f.ConsumeBool()) return {};
  std::int64_t len = n;
  if (hostile(f, allow_hostile)) len = f.ConsumeIntegralInRange<std::int64_t>(0, n + 2);
  ar::Validity v(static_cast<std::size_t>(len));
  for (auto& b : v) b = f.ConsumeBool() ? 1 : 0;
  return v;
}

// Valid UTF-8 (the "u"/"U" types require it; the builders take it as a precondition): ASCII
// and two- to four-byte sequences.
std::string gen_utf8(FuzzedDataProvider& f) {
  std::string s;
  const int n = f.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < n; ++i) {
    switch (f.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: s += static_cast<char>(f.ConsumeIntegralInRange<int>(0, 0x7F)); break;
      case 1: s += "\xc3\xbc"; break;          // ü
      case 2: s += "\xe2\x82\xac"; break;      // €
      default: s += "\xf0\x9f\xa5\x81"; break;  // drum
    }
  }
  return s;
}

template <class T>
std::vector<T> gen_values(FuzzedDataProvider& f, std::int64_t n) {
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& x : v) {
    if constexpr (std::is_floating_point_v<T>)
      x = f.ConsumeFloatingPoint<T>();
    else
      x = f.ConsumeIntegral<T>();
  }
  return v;
}

template <class Offset>
std::vector<Offset> gen_offsets(FuzzedDataProvider& f, std::int64_t n, bool bad) {
  std::vector<Offset> o{0};
  if (bad) {  // arbitrary values, sometimes a wrong count
    const std::int64_t count = f.ConsumeIntegralInRange<std::int64_t>(0, n + 2);
    o.clear();
    for (std::int64_t i = 0; i < count; ++i) o.push_back(f.ConsumeIntegralInRange<Offset>(-3, 40));
    return o;
  }
  for (std::int64_t i = 0; i < n; ++i) o.push_back(o.back() + f.ConsumeIntegralInRange<Offset>(0, 4));
  return o;
}

ar::ArrayPtr gen_array(FuzzedDataProvider& f, const Spec& s, std::int64_t n, bool allow_hostile);

template <class Offset>
ar::ArrayPtr gen_list(FuzzedDataProvider& f, const Spec& s, std::int64_t n, bool allow_hostile) {
  const bool bad = hostile(f, allow_hostile);
  auto offsets = gen_offsets<Offset>(f, n, bad);
  std::int64_t child_n = offsets.empty() ? 0 : static_cast<std::int64_t>(offsets.back());
  if (child_n < 0) child_n = 0;
  auto child = gen_array(f, s.children[0], child_n, allow_hostile);
  auto valid = gen_validity(f, n, allow_hostile);
  if constexpr (sizeof(Offset) == 4)
    return ar::list(std::move(offsets), std::move(child), valid);
  else
    return ar::large_list(std::move(offsets), std::move(child), valid);
}

ar::ArrayPtr gen_array(FuzzedDataProvider& f, const Spec& s, std::int64_t n, bool allow_hostile) {
  auto strings = [&](bool utf8) {
    std::vector<std::string> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = utf8 ? gen_utf8(f) : f.ConsumeRandomLengthString(8);
    return v;
  };
  auto valid = [&] { return gen_validity(f, n, allow_hostile); };
  switch (s.kind) {
    case kI8: return ar::primitive(gen_values<std::int8_t>(f, n), valid());
    case kU8: return ar::primitive(gen_values<std::uint8_t>(f, n), valid());
    case kI16: return ar::primitive(gen_values<std::int16_t>(f, n), valid());
    case kU16: return ar::primitive(gen_values<std::uint16_t>(f, n), valid());
    case kI32: return ar::primitive(gen_values<std::int32_t>(f, n), valid());
    case kU32: return ar::primitive(gen_values<std::uint32_t>(f, n), valid());
    case kI64: return ar::primitive(gen_values<std::int64_t>(f, n), valid());
    case kU64: return ar::primitive(gen_values<std::uint64_t>(f, n), valid());
    case kF32: return ar::primitive(gen_values<float>(f, n), valid());
    case kF64: return ar::primitive(gen_values<double>(f, n), valid());
    case kF16: return ar::float16(gen_values<std::uint16_t>(f, n), valid());
    case kBool: return ar::boolean(gen_values<std::uint8_t>(f, n), valid());
    case kUtf8: return ar::utf8(strings(true), valid());
    case kLargeUtf8: return ar::large_utf8(strings(true), valid());
    case kBinary: return ar::binary(strings(false), valid());
    case kLargeBinary: return ar::large_binary(strings(false), valid());
    case kDictUtf8: {
      const bool bad = hostile(f, allow_hostile);
      const auto n_values = f.ConsumeIntegralInRange<std::int32_t>(n > 0 ? 1 : 0, 5);
      std::vector<std::string> values(static_cast<std::size_t>(n_values));
      for (auto& v : values) v = gen_utf8(f);
      std::vector<std::int32_t> indices(static_cast<std::size_t>(n));
      for (auto& i : indices)
        i = bad ? f.ConsumeIntegral<std::int32_t>() : f.ConsumeIntegralInRange<std::int32_t>(0, n_values - 1);
      return ar::dictionary_utf8(std::move(indices), values, valid());
    }
    case kList: return gen_list<std::int32_t>(f, s, n, allow_hostile);
    case kLargeList: return gen_list<std::int64_t>(f, s, n, allow_hostile);
    case kFixedList: {
      std::int32_t size = s.list_size;
      std::int64_t child_n = size * n;
      if (hostile(f, allow_hostile)) {
        size = f.ConsumeIntegralInRange<std::int32_t>(-1, 5);
        child_n += f.ConsumeIntegralInRange<std::int64_t>(-1, 1);
        if (child_n < 0) child_n = 0;
      }
      auto child = gen_array(f, s.children[0], child_n, allow_hostile);
      return ar::fixed_size_list(size, std::move(child), valid());
    }
    case kStruct: {
      std::vector<ar::Field> fields;
      for (std::size_t i = 0; i < s.children.size(); ++i) {
        std::int64_t len = n;
        if (hostile(f, allow_hostile)) len = f.ConsumeIntegralInRange<std::int64_t>(0, n + 1);
        fields.push_back({s.names[i], gen_array(f, s.children[i], len, allow_hostile), s.nullable[i]});
      }
      return ar::struct_array(std::move(fields));
    }
    case kKinds: break;
  }
  std::abort();
}

// --- The spec's promises, checked on the exported structs alone ---------------------------

std::int64_t primitive_width(const std::string& fmt) {
  if (fmt == "c" || fmt == "C") return 1;
  if (fmt == "s" || fmt == "S" || fmt == "e") return 2;
  if (fmt == "i" || fmt == "I" || fmt == "f") return 4;
  if (fmt == "l" || fmt == "L" || fmt == "g") return 8;
  return 0;
}

bool bit(const void* bitmap, std::int64_t i) {
  return (static_cast<const std::uint8_t*>(bitmap)[i / 8] >> (i % 8)) & 1;
}

volatile std::uint8_t g_sink;  // every byte the walk reads goes here, so none is optimised away

void touch(const void* p, std::int64_t n) {
  std::uint8_t x = 0;
  for (std::int64_t i = 0; i < n; ++i) x ^= static_cast<const std::uint8_t*>(p)[i];
  g_sink = x;
}

// Buffer sizes are not part of the C structs; when the source array is at hand its sizes are
// checked too (`src`), otherwise only what the spec lets a consumer read is read.
template <class Offset>
void check_offsets(const ArrowArray* a, std::int64_t values_len, const ar::Array* src) {
  if (src) CHECK(src->buffers[1].size_bytes >= (a->length + 1) * static_cast<std::int64_t>(sizeof(Offset)));
  const auto* o = static_cast<const Offset*>(a->buffers[1]);
  CHECK(o != nullptr);
  CHECK(o[0] >= 0);
  for (std::int64_t i = 0; i < a->length; ++i) CHECK(o[i] <= o[i + 1]);
  CHECK(static_cast<std::int64_t>(o[a->length]) <= values_len);
}

std::int64_t walk(const ArrowArray* a, const ArrowSchema* s, const ar::Array* src);

std::int64_t walk_child(const ArrowArray* a, const ArrowSchema* s, std::int64_t i,
                        const ar::Array* src) {
  CHECK(a->children[i] != nullptr && s->children[i] != nullptr);
  const ar::Array* child_src = src ? src->children[static_cast<std::size_t>(i)].array.get() : nullptr;
  if (src) {
    const auto& field = src->children[static_cast<std::size_t>(i)];
    CHECK(std::string(s->children[i]->name) == field.name);
    CHECK(((s->children[i]->flags & ARROW_FLAG_NULLABLE) != 0) == field.nullable);
  }
  return walk(a->children[i], s->children[i], child_src);
}

// Returns the array's length after checking it and everything under it.
std::int64_t walk(const ArrowArray* a, const ArrowSchema* s, const ar::Array* src) {
  CHECK(a->release != nullptr && s->release != nullptr);
  const std::string fmt = s->format;
  const std::int64_t n = a->length;
  CHECK(n >= 0 && a->offset == 0 && 0 <= a->null_count && a->null_count <= n);
  CHECK(a->n_children == s->n_children);
  CHECK((a->dictionary != nullptr) == (s->dictionary != nullptr));
  if (src) {
    CHECK(fmt == src->format && n == src->length && a->null_count == src->null_count);
    CHECK(a->n_buffers == static_cast<std::int64_t>(src->buffers.size()));
    CHECK(a->n_children == static_cast<std::int64_t>(src->children.size()));
    for (std::int64_t i = 0; i < a->n_buffers; ++i) CHECK(a->buffers[i] == src->buffers[static_cast<std::size_t>(i)].data);
  }
  // Validity: absent, or a bitmap whose zero bits are the nulls.
  CHECK(a->n_buffers >= 1 && a->buffers != nullptr);
  if (a->buffers[0] == nullptr) {
    CHECK(a->null_count == 0);
  } else {
    if (src) CHECK(src->buffers[0].size_bytes >= (n + 7) / 8);
    std::int64_t zeros = 0;
    for (std::int64_t i = 0; i < n; ++i) zeros += !bit(a->buffers[0], i);
    CHECK(zeros == a->null_count);
  }
  const auto valid = [&](std::int64_t i) { return a->buffers[0] == nullptr || bit(a->buffers[0], i); };

  if (const std::int64_t w = primitive_width(fmt); w > 0) {  // dictionary indices too
    CHECK(a->n_buffers == 2 && a->n_children == 0);
    if (src) CHECK(src->buffers[1].size_bytes >= n * w);
    if (n > 0) CHECK(a->buffers[1] != nullptr);
    touch(a->buffers[1], n * w);
  } else if (fmt == "b") {
    CHECK(a->n_buffers == 2 && a->n_children == 0);
    if (src) CHECK(src->buffers[1].size_bytes >= (n + 7) / 8);
    touch(a->buffers[1], (n + 7) / 8);
  } else if (fmt == "u" || fmt == "z" || fmt == "U" || fmt == "Z") {
    CHECK(a->n_buffers == 3 && a->n_children == 0);
    const bool large = fmt == "U" || fmt == "Z";
    const std::int64_t data_len = src ? src->buffers[2].size_bytes : INT64_MAX;
    std::int64_t end;
    if (large) {
      check_offsets<std::int64_t>(a, data_len, src);
      end = static_cast<const std::int64_t*>(a->buffers[1])[n];
    } else {
      check_offsets<std::int32_t>(a, data_len, src);
      end = static_cast<const std::int32_t*>(a->buffers[1])[n];
    }
    if (end > 0) CHECK(a->buffers[2] != nullptr);
    touch(a->buffers[2], end);
  } else if (fmt == "+l" || fmt == "+L") {
    CHECK(a->n_buffers == 2 && a->n_children == 1);
    CHECK(std::string(s->children[0]->format).size() > 0);
    const std::int64_t child_len = walk_child(a, s, 0, src);
    if (fmt == "+l")
      check_offsets<std::int32_t>(a, child_len, src);
    else
      check_offsets<std::int64_t>(a, child_len, src);
  } else if (fmt.rfind("+w:", 0) == 0) {
    CHECK(a->n_buffers == 1 && a->n_children == 1);
    const long size = std::strtol(fmt.c_str() + 3, nullptr, 10);
    CHECK(size > 0);
    CHECK(walk_child(a, s, 0, src) >= size * n);
  } else if (fmt == "+s") {
    CHECK(a->n_buffers == 1);
    for (std::int64_t i = 0; i < a->n_children; ++i) CHECK(walk_child(a, s, i, src) >= n);
  } else {
    CHECK(!"unexpected format");
  }
  if (a->dictionary != nullptr) {
    CHECK(fmt == "i" && a->n_buffers == 2);  // int32 indices
    const std::int64_t dict_len =
        walk(a->dictionary, s->dictionary, src ? src->dictionary.get() : nullptr);
    const auto* idx = static_cast<const std::int32_t*>(a->buffers[1]);
    for (std::int64_t i = 0; i < n; ++i)
      if (valid(i)) CHECK(0 <= idx[i] && idx[i] < dict_len);
  }
  return n;
}

// Releases `a` (and `s`), first moving one child out (as a consumer may), which must stay
// readable after its parent is gone.
void release_fuzzed(FuzzedDataProvider& f, ArrowArray* a, ArrowSchema* s) {
  if (a->n_children > 0 && f.ConsumeBool()) {
    const auto k = f.ConsumeIntegralInRange<std::int64_t>(0, a->n_children - 1);
    ArrowArray child = *a->children[k];
    a->children[k]->release = nullptr;  // moved: the parent must not release it
    ArrowSchema child_schema = *s->children[k];
    s->children[k]->release = nullptr;
    a->release(a);
    if (f.ConsumeBool()) s->release(s);
    walk(&child, &child_schema, nullptr);  // the buffers are still alive
    child.release(&child);
    child_schema.release(&child_schema);
    if (s->release) s->release(s);
  } else {
    if (f.ConsumeBool()) {
      a->release(a);
      s->release(s);
    } else {
      s->release(s);
      a->release(a);
    }
  }
  CHECK(a->release == nullptr && s->release == nullptr);
}

void fuzz_array(FuzzedDataProvider& f) {
  const Spec spec = gen_spec(f, 0);
  const auto n = f.ConsumeIntegralInRange<std::int64_t>(0, 16);
  ar::ArrayPtr array;
  try {
    array = gen_array(f, spec, n, /*allow_hostile=*/true);
  } catch (const std::logic_error&) {
    return;  // a refused precondition: the builder's job
  }
  ArrowArray a;
  ArrowSchema s;
  ar::export_array(array, &a);
  ar::export_schema(*array, "col", f.ConsumeBool(), &s);
  walk(&a, &s, array.get());
  array.reset();  // from here on only the exported structs keep the buffers alive
  walk(&a, &s, nullptr);
  release_fuzzed(f, &a, &s);
}

void fuzz_stream(FuzzedDataProvider& f) {
  Spec spec = gen_spec(f, 1);
  if (spec.kind != kStruct) spec = Spec{kStruct, 0, {spec}, {"only"}, {true}};
  std::vector<ar::ArrayPtr> batches;
  const int n_batches = f.ConsumeIntegralInRange<int>(0, 3);
  try {
    for (int i = 0; i < n_batches; ++i)
      batches.push_back(gen_array(f, spec, f.ConsumeIntegralInRange<std::int64_t>(0, 8), false));
  } catch (const std::logic_error&) {
    CHECK(!"a builder refused well-formed input");
  }
  const ar::ArrayPtr schema_batch = gen_array(f, spec, 0, false);
  const bool throw_midway = f.ConsumeBool();
  const std::size_t throw_at = f.ConsumeIntegralInRange<std::size_t>(0, batches.size());
  ArrowArrayStream stream;
  if (throw_midway) {
    std::size_t next = 0;
    ar::export_stream(schema_batch, [batches, next, throw_at]() mutable -> ar::ArrayPtr {
      if (next == throw_at) throw std::runtime_error("source failed at batch " + std::to_string(next));
      return next < batches.size() ? batches[next++] : nullptr;
    }, &stream);
  } else {
    ar::export_stream(schema_batch, batches, &stream);
  }
  ArrowSchema schema;
  CHECK(stream.get_schema(&stream, &schema) == 0);
  CHECK(std::string(schema.format) == "+s");
  CHECK(schema.n_children == static_cast<std::int64_t>(spec.children.size()));
  for (std::size_t i = 0;; ++i) {
    ArrowArray batch;
    const int rc = stream.get_next(&stream, &batch);
    if (throw_midway && i == throw_at) {
      CHECK(rc == EIO);
      const char* err = stream.get_last_error(&stream);
      CHECK(err != nullptr && std::strstr(err, "source failed") != nullptr);
      break;
    }
    CHECK(rc == 0);
    if (batch.release == nullptr) {  // the end
      CHECK(i == batches.size());
      ArrowArray again;
      CHECK(stream.get_next(&stream, &again) == 0 && again.release == nullptr);
      break;
    }
    CHECK(i < batches.size());
    // Every batch matches the stream's schema, checked against the batch's source arrays.
    walk(&batch, &schema, batches[i].get());
    batch.release(&batch);
  }
  schema.release(&schema);
  stream.release(&stream);
  CHECK(stream.release == nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const long live_before = ar::live_exports();
  FuzzedDataProvider f(data, size);
  if (f.ConsumeBool())
    fuzz_stream(f);
  else
    fuzz_array(f);
  CHECK(ar::live_exports() == live_before);
  return 0;
}
