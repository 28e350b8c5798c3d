#include "cadence/arrow/c_export.h"

#include <atomic>
#include <vector>

namespace cadence::arrow {

namespace {

std::atomic<long> g_live{0};

struct ArrayPrivate {
  ArrayPtr keep_alive;
  std::vector<const void*> buffer_ptrs;
  std::vector<ArrowArray> child_structs;
  std::vector<ArrowArray*> child_ptrs;
  ArrowArray dictionary_struct{};
};

void release_array(ArrowArray* a) {
  if (a == nullptr || a->release == nullptr) return;
  auto* p = static_cast<ArrayPrivate*>(a->private_data);
  // A consumer may have moved a child out (setting its release to null); release the rest.
  for (auto& c : p->child_structs)
    if (c.release) c.release(&c);
  if (p->dictionary_struct.release) p->dictionary_struct.release(&p->dictionary_struct);
  delete p;
  a->release = nullptr;
  g_live.fetch_sub(1);
}

struct SchemaPrivate {
  std::string format;
  std::string name;
  std::vector<ArrowSchema> child_structs;
  std::vector<ArrowSchema*> child_ptrs;
  ArrowSchema dictionary_struct{};
};

void release_schema(ArrowSchema* s) {
  if (s == nullptr || s->release == nullptr) return;
  auto* p = static_cast<SchemaPrivate*>(s->private_data);
  for (auto& c : p->child_structs)
    if (c.release) c.release(&c);
  if (p->dictionary_struct.release) p->dictionary_struct.release(&p->dictionary_struct);
  delete p;
  s->release = nullptr;
  g_live.fetch_sub(1);
}

}  // namespace

void export_array(const ArrayPtr& array, ArrowArray* out) {
  auto* p = new ArrayPrivate;
  p->keep_alive = array;
  for (const auto& b : array->buffers) p->buffer_ptrs.push_back(b.data);
  // Sized first: child_ptrs point into child_structs, which must not reallocate afterwards.
  p->child_structs.resize(array->children.size());
  for (std::size_t i = 0; i < array->children.size(); ++i) {
    export_array(array->children[i].array, &p->child_structs[i]);
    p->child_ptrs.push_back(&p->child_structs[i]);
  }
  if (array->dictionary) export_array(array->dictionary, &p->dictionary_struct);

  out->length = array->length;
  out->null_count = array->null_count;
  out->offset = 0;
  out->n_buffers = static_cast<int64_t>(p->buffer_ptrs.size());
  out->n_children = static_cast<int64_t>(p->child_ptrs.size());
  out->buffers = p->buffer_ptrs.empty() ? nullptr : p->buffer_ptrs.data();
  out->children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
  out->dictionary = array->dictionary ? &p->dictionary_struct : nullptr;
  out->release = &release_array;
  out->private_data = p;
  g_live.fetch_add(1);
}

void export_schema(const Array& array, const std::string& name, bool nullable, ArrowSchema* out) {
  auto* p = new SchemaPrivate;
  p->format = array.format;
  p->name = name;
  p->child_structs.resize(array.children.size());
  for (std::size_t i = 0; i < array.children.size(); ++i) {
    const auto& f = array.children[i];
    export_schema(*f.array, f.name, f.nullable, &p->child_structs[i]);
    p->child_ptrs.push_back(&p->child_structs[i]);
  }
  if (array.dictionary) export_schema(*array.dictionary, "", false, &p->dictionary_struct);

  out->format = p->format.c_str();
  out->name = p->name.c_str();
  out->metadata = nullptr;
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->n_children = static_cast<int64_t>(p->child_ptrs.size());
  out->children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
  out->dictionary = array.dictionary ? &p->dictionary_struct : nullptr;
  out->release = &release_schema;
  out->private_data = p;
  g_live.fetch_add(1);
}

long live_exports() noexcept { return g_live.load(); }

}  // namespace cadence::arrow
