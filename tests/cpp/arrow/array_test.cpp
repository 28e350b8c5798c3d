#include "cadence/arrow/array.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace cadence::arrow;

namespace {
template <class T>
const T* data(const Array& a, std::size_t buffer) {
  return static_cast<const T*>(a.buffers.at(buffer).data);
}
}  // namespace

TEST(Array, PrimitiveSharesTheVectorsStorage) {
  std::vector<std::int32_t> v = {1, 2, 3};
  const auto* before = v.data();
  auto a = primitive(std::move(v));
  EXPECT_EQ(a->format, "i");
  EXPECT_EQ(a->length, 3);
  EXPECT_EQ(a->null_count, 0);
  ASSERT_EQ(a->buffers.size(), 2u);
  EXPECT_EQ(a->buffers[0].data, nullptr);  // all valid: no bitmap
  EXPECT_EQ(data<std::int32_t>(*a, 1), before);  // moved, not copied
}

TEST(Array, ValidityIsAnLsbFirstBitmap) {
  auto a = primitive(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 0, 1, 1, 1, 1, 1, 1, 0});
  EXPECT_EQ(a->null_count, 2);
  const auto* bits = data<std::uint8_t>(*a, 0);
  EXPECT_EQ(bits[0], 0b11111101);
  EXPECT_EQ(bits[1], 0b00000000);
}

TEST(Array, ValidityLengthMismatchIsAnError) {
  EXPECT_THROW(primitive(std::vector<float>{1, 2}, {1}), std::invalid_argument);
}

TEST(Array, Utf8OffsetsAndData) {
  auto a = utf8({"ab", "", "cde"});
  EXPECT_EQ(a->format, "u");
  ASSERT_EQ(a->buffers.size(), 3u);
  const auto* off = data<std::int32_t>(*a, 1);
  EXPECT_EQ(off[0], 0);
  EXPECT_EQ(off[1], 2);
  EXPECT_EQ(off[2], 2);
  EXPECT_EQ(off[3], 5);
  EXPECT_EQ(std::memcmp(a->buffers[2].data, "abcde", 5), 0);
  EXPECT_EQ(large_binary({"x"})->format, "Z");
  EXPECT_EQ(data<std::int64_t>(*large_utf8({"xyz"}), 1)[1], 3);
}

TEST(Array, BooleanIsBitPacked) {
  auto a = boolean({1, 0, 0, 1, 1});
  EXPECT_EQ(a->format, "b");
  EXPECT_EQ(data<std::uint8_t>(*a, 1)[0], 0b11001);
}

TEST(Array, ListsCheckTheirOffsets) {
  auto child = primitive(std::vector<std::int16_t>{1, 2, 3});
  auto a = list({0, 1, 3}, child);
  EXPECT_EQ(a->length, 2);
  EXPECT_EQ(a->format, "+l");
  EXPECT_EQ(a->children.at(0).name, "item");
  EXPECT_THROW(list({0, 1, 2}, child), std::invalid_argument);
  EXPECT_THROW(fixed_size_list(2, child), std::invalid_argument);
  auto f = fixed_size_list(3, child);
  EXPECT_EQ(f->format, "+w:3");
  EXPECT_EQ(f->length, 1);
}

TEST(Array, DictionaryRejectsOutOfRangeIndicesButNotNulls) {
  EXPECT_THROW(dictionary_utf8({0, 2}, {"a", "b"}), std::out_of_range);
  auto a = dictionary_utf8({0, 99, 1}, {"a", "b"}, {1, 0, 1});
  EXPECT_EQ(a->null_count, 1);
  ASSERT_TRUE(a->dictionary);
  EXPECT_EQ(a->dictionary->length, 2);
}

// Regression (fuzz/arrow_fuzz.cpp): list() checked only the last offset, so {0, 5, 3} over a
// 3-element child was exported, and a consumer slicing row 1 as [5, 3) reads past the child.
TEST(Array, ListOffsetsMustBeNonNegativeAndNonDecreasing) {
  auto child = primitive(std::vector<std::int16_t>{1, 2, 3});
  EXPECT_THROW(list({0, 5, 3}, child), std::invalid_argument);
  EXPECT_THROW(list({-1, 3}, child), std::invalid_argument);
  EXPECT_THROW(large_list({2, 1, 3}, child), std::invalid_argument);
  EXPECT_EQ(list({1, 1, 3}, child)->length, 2);  // a non-zero start is allowed by the spec
}

// Regression (fuzz/arrow_fuzz.cpp, an ASan heap-buffer-overflow): dictionary_utf8 read
// valid[i] for every index before anything checked that `valid` had one entry per index.
TEST(Array, DictionaryValidityLengthIsCheckedBeforeItIsRead) {
  EXPECT_THROW(dictionary_utf8({0, 1, 0, 1, 0, 1}, {"a", "b"}, {1, 0}), std::invalid_argument);
  EXPECT_THROW(dictionary_utf8({0}, {"a"}, {1, 1}), std::invalid_argument);
}

TEST(Array, StructRequiresEqualLengths) {
  EXPECT_THROW(struct_array({{"a", primitive(std::vector<float>{1}), false},
                             {"b", primitive(std::vector<float>{1, 2}), false}}),
               std::invalid_argument);
  auto s = struct_array({{"a", primitive(std::vector<float>{1, 2}), false}});
  EXPECT_EQ(s->format, "+s");
  EXPECT_EQ(s->length, 2);
}
