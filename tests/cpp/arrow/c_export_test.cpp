#include "cadence/arrow/c_export.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "type_zoo.h"
#include "cadence/kernels/float16.h"

using namespace cadence::arrow;

TEST(CExport, SchemaOfTheTypeZoo) {
  auto zoo = type_zoo(10);
  ArrowSchema s;
  export_schema(*zoo, "", false, &s);
  EXPECT_STREQ(s.format, "+s");
  ASSERT_EQ(s.n_children, 21);
  EXPECT_STREQ(s.children[0]->name, "i8");
  EXPECT_STREQ(s.children[0]->format, "c");
  EXPECT_EQ(s.children[0]->flags, 0);
  EXPECT_STREQ(s.children[11]->name, "i32_nullable");
  EXPECT_EQ(s.children[11]->flags, ARROW_FLAG_NULLABLE);
  EXPECT_STREQ(s.children[19]->format, "+w:3");
  ASSERT_EQ(s.children[19]->n_children, 1);
  EXPECT_STREQ(s.children[19]->children[0]->format, "f");
  EXPECT_STREQ(s.children[20]->format, "i");
  ASSERT_NE(s.children[20]->dictionary, nullptr);
  EXPECT_STREQ(s.children[20]->dictionary->format, "u");
  s.release(&s);
  EXPECT_EQ(s.release, nullptr);
}

TEST(CExport, ArrayValuesAndBuffers) {
  auto zoo = type_zoo(10);
  ArrowArray a;
  export_array(zoo, &a);
  EXPECT_EQ(a.length, 10);
  EXPECT_EQ(a.n_buffers, 1);
  EXPECT_EQ(a.buffers[0], nullptr);
  ASSERT_EQ(a.n_children, 21);
  const auto* f64 = static_cast<const double*>(a.children[10]->buffers[1]);
  EXPECT_DOUBLE_EQ(f64[9], 3.0);
  const auto* f16 = static_cast<const std::uint16_t*>(a.children[8]->buffers[1]);
  EXPECT_EQ(cadence::kernels::half_to_float(f16[5]), 1.25f);
  EXPECT_EQ(a.children[11]->null_count, 2);  // rows 0 and 5
  const ArrowArray* text = a.children[13];
  const auto* off = static_cast<const std::int32_t*>(text->buffers[1]);
  const auto* chars = static_cast<const char*>(text->buffers[2]);
  EXPECT_EQ(std::string(chars + off[3], chars + off[4]), "row-3");
  EXPECT_EQ(std::string(chars + off[2], chars + off[3]), "row-2\xc3\xbc");
  ASSERT_NE(a.children[20]->dictionary, nullptr);
  EXPECT_EQ(a.children[20]->dictionary->length, 3);
  a.release(&a);
}

TEST(CExport, ReleaseFreesEverythingEvenWhenAChildIsMovedOut) {
  const long before = live_exports();
  {
    ArrowArray a;
    export_array(type_zoo(5), &a);
    ArrowSchema s;
    export_schema(*type_zoo(5), "", false, &s);
    EXPECT_GT(live_exports(), before);
    // A consumer may move a child out and release it on its own schedule.
    ArrowArray moved = *a.children[3];
    a.children[3]->release = nullptr;
    a.release(&a);
    EXPECT_GT(live_exports(), before);
    moved.release(&moved);
    s.release(&s);
  }
  EXPECT_EQ(live_exports(), before);
}

TEST(CExport, ExportedBuffersOutliveTheBuilder) {
  ArrowArray a;
  {
    auto arr = primitive(std::vector<std::int64_t>{7, 8, 9});
    export_array(arr, &a);
  }  // the last engine-side reference is gone
  EXPECT_EQ(static_cast<const std::int64_t*>(a.buffers[1])[2], 9);
  a.release(&a);
}
