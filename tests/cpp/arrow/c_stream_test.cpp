#include "cadence/arrow/c_stream.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>

#include "cadence/arrow/c_export.h"

using namespace cadence::arrow;

namespace {
ArrayPtr batch(std::vector<std::int32_t> v) {
  return struct_array({{"x", primitive(std::move(v)), false}});
}
}  // namespace

TEST(CStream, YieldsBatchesThenTheEndMarker) {
  ArrowArrayStream s;
  export_stream(batch({}), std::vector<ArrayPtr>{batch({1, 2}), batch({3})}, &s);
  ArrowSchema schema;
  ASSERT_EQ(s.get_schema(&s, &schema), 0);
  EXPECT_STREQ(schema.children[0]->name, "x");
  schema.release(&schema);

  std::vector<std::int64_t> lengths;
  for (;;) {
    ArrowArray a;
    ASSERT_EQ(s.get_next(&s, &a), 0);
    if (a.release == nullptr) break;
    lengths.push_back(a.length);
    a.release(&a);
  }
  EXPECT_EQ(lengths, (std::vector<std::int64_t>{2, 1}));
  ArrowArray again;
  ASSERT_EQ(s.get_next(&s, &again), 0);  // stays at the end
  EXPECT_EQ(again.release, nullptr);
  s.release(&s);
  EXPECT_EQ(s.release, nullptr);
}

TEST(CStream, ProducerErrorsReachTheConsumer) {
  ArrowArrayStream s;
  int calls = 0;
  export_stream(batch({}),
                [&calls]() -> ArrayPtr {
                  if (calls++ == 0) return batch({1});
                  throw std::runtime_error("disk on fire");
                },
                &s);
  ArrowArray a;
  ASSERT_EQ(s.get_next(&s, &a), 0);
  a.release(&a);
  EXPECT_EQ(s.get_next(&s, &a), EIO);
  EXPECT_STREQ(s.get_last_error(&s), "disk on fire");
  s.release(&s);
}
