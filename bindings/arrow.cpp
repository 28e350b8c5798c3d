#include <Python.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "arrow_batch.h"
#include "cadence/arrow/c_export.h"
#include "cadence/arrow/c_stream.h"
#include "register.h"

namespace nb = nanobind;

namespace cadence::bindings {

namespace {

// Capsule destructors per the PyCapsule protocol: release the struct unless a consumer has
// already moved it (release == nullptr), then free it.
template <class T>
void destroy(PyObject* capsule, const char* name) {
  auto* p = static_cast<T*>(PyCapsule_GetPointer(capsule, name));
  if (p == nullptr) {
    PyErr_Clear();
    return;
  }
  if (p->release) p->release(p);
  delete p;
}

void destroy_schema(PyObject* c) { destroy<ArrowSchema>(c, "arrow_schema"); }
void destroy_array(PyObject* c) { destroy<ArrowArray>(c, "arrow_array"); }
void destroy_stream(PyObject* c) { destroy<ArrowArrayStream>(c, "arrow_array_stream"); }

nb::object schema_capsule(const ArrowBatch& b) {
  auto* s = new ArrowSchema;
  arrow::export_schema(*b.array, "", false, s);
  return nb::steal(PyCapsule_New(s, "arrow_schema", destroy_schema));
}

nb::object array_capsule(const ArrowBatch& b) {
  auto* a = new ArrowArray;
  arrow::export_array(b.array, a);
  return nb::steal(PyCapsule_New(a, "arrow_array", destroy_array));
}

nb::object stream_capsule(const ArrowBatch& b) {
  auto* s = new ArrowArrayStream;
  arrow::export_stream(b.array, std::vector<arrow::ArrayPtr>{b.array}, s);
  return nb::steal(PyCapsule_New(s, "arrow_array_stream", destroy_stream));
}

}  // namespace

void register_arrow(nb::module_& m) {
  nb::class_<ArrowBatch>(m, "ArrowBatch",
                         "A record batch owned by the engine; pass it to pyarrow.record_batch() "
                         "or pyarrow.table() (zero-copy, Arrow PyCapsule protocol).")
      .def_prop_ro("num_rows", [](const ArrowBatch& b) { return b.array->length; })
      .def_prop_ro("column_names",
                   [](const ArrowBatch& b) {
                     std::vector<std::string> names;
                     for (const auto& f : b.array->children) names.push_back(f.name);
                     return names;
                   })
      .def("__arrow_c_schema__", &schema_capsule)
      .def(
          "__arrow_c_array__",
          [](const ArrowBatch& b, nb::object /*requested_schema*/) {
            return nb::make_tuple(schema_capsule(b), array_capsule(b));
          },
          nb::arg("requested_schema") = nb::none())
      .def(
          "__arrow_c_stream__",
          [](const ArrowBatch& b, nb::object /*requested_schema*/) { return stream_capsule(b); },
          nb::arg("requested_schema") = nb::none());

  m.def("arrow_live_exports", &arrow::live_exports,
        "Exported Arrow structs not yet released (a leak check for tests).");
}

}  // namespace cadence::bindings
