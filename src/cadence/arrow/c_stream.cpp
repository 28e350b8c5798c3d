#include "cadence/arrow/c_stream.h"

#include <cerrno>
#include <exception>
#include <string>

#include "cadence/arrow/c_export.h"

namespace cadence::arrow {

namespace {

struct StreamPrivate {
  ArrayPtr schema;
  BatchSource next;
  std::string last_error;
  bool finished = false;
};

StreamPrivate* state(ArrowArrayStream* s) { return static_cast<StreamPrivate*>(s->private_data); }

int get_schema(ArrowArrayStream* s, ArrowSchema* out) {
  auto* p = state(s);
  try {
    export_schema(*p->schema, "", false, out);
    return 0;
  } catch (const std::exception& e) {
    p->last_error = e.what();
    return EIO;
  }
}

int get_next(ArrowArrayStream* s, ArrowArray* out) {
  auto* p = state(s);
  try {
    ArrayPtr batch = p->finished ? nullptr : p->next();
    if (!batch) {
      // End of stream: the spec's marker is a released (release == nullptr) array.
      p->finished = true;
      *out = ArrowArray{};
      return 0;
    }
    export_array(batch, out);
    return 0;
  } catch (const std::exception& e) {
    p->last_error = e.what();
    return EIO;
  }
}

const char* get_last_error(ArrowArrayStream* s) {
  auto* p = state(s);
  return p->last_error.empty() ? nullptr : p->last_error.c_str();
}

void release_stream(ArrowArrayStream* s) {
  if (s == nullptr || s->release == nullptr) return;
  delete state(s);
  s->release = nullptr;
}

}  // namespace

void export_stream(ArrayPtr schema, BatchSource next, ArrowArrayStream* out) {
  out->private_data = new StreamPrivate{std::move(schema), std::move(next), {}, false};
  out->get_schema = &get_schema;
  out->get_next = &get_next;
  out->get_last_error = &get_last_error;
  out->release = &release_stream;
}

void export_stream(ArrayPtr schema, std::vector<ArrayPtr> batches, ArrowArrayStream* out) {
  auto queue = std::make_shared<std::vector<ArrayPtr>>(std::move(batches));
  auto index = std::make_shared<std::size_t>(0);
  export_stream(
      std::move(schema),
      [queue, index]() -> ArrayPtr {
        return *index < queue->size() ? (*queue)[(*index)++] : nullptr;
      },
      out);
}

}  // namespace cadence::arrow
