#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "arrow_batch.h"
#include "cadence/drums/corpus_scan.h"
#include "register.h"

namespace nb = nanobind;

namespace cadence::bindings {

void register_drums(nb::module_& m) {
  m.def(
      "scan_corpus",
      [](const std::vector<std::string>& paths, runtime::Job& job) {
        return ArrowBatch{drums::scan_corpus(paths, job)};
      },
      nb::arg("paths"), nb::arg("job"), nb::call_guard<nb::gil_scoped_release>(),
      "Decode every audio file on the job's workers; one row per file (path, ok, error, "
      "sample_rate_hz, channels, frames, duration_s, peak, rms_dbfs), in input order.");
}

}  // namespace cadence::bindings
