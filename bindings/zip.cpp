// Zip archives (io/zip/archive.h) for Python: listing members and reading small ones (the CSV)
// through the same libzip reader the engine's workers use, CRC-checked.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "cadence/io/zip/archive.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

void register_zip(nb::module_& m) {
  using io::zip::Archive;
  nb::exception<io::zip::ZipError>(m, "ZipError", PyExc_ValueError);

  nb::class_<Archive>(m, "ZipArchive", "A zip archive opened read-only (zip64, stored and deflate members).")
      .def(
          "__init__",
          [](Archive* self, const std::string& path) {
            try {
              new (self) Archive(path);
            } catch (const std::runtime_error& e) {
              throw nb::value_error(e.what());  // not a zip, or truncated: the user's input
            }
          },
          "path"_a, nb::call_guard<nb::gil_scoped_release>())
      .def_prop_ro("path", &Archive::path)
      .def("names", &Archive::names, "Every member name, in central-directory order.")
      .def(
          "size",
          [](const Archive& a, const std::string& name) -> std::optional<std::uint64_t> {
            auto s = a.stat(name);
            if (!s) return std::nullopt;
            return s->size;
          },
          "name"_a, "The member's declared uncompressed size in bytes, or None when absent.")
      .def(
          "read",
          [](Archive& a, const std::string& name, std::uint64_t max_bytes) {
            std::vector<std::uint8_t> data;
            {
              nb::gil_scoped_release release;
              data = a.read(name, max_bytes);
            }
            return nb::bytes(reinterpret_cast<const char*>(data.data()), data.size());
          },
          "name"_a, "max_bytes"_a,
          "The whole member, CRC-checked. Raises ZipError (a ValueError) when it is absent, declares "
          "more than max_bytes, or is damaged.");
}

}  // namespace cadence::bindings
