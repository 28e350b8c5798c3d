// cadence._testing: the test and benchmark helpers (tests/support, bench/support) for Python,
// in a module of their own so that the shipped cadence._core holds none of them. Its functions
// take and return cadence._core's types (Job, ArrowBatch), which nanobind shares between the
// two modules once cadence._core is imported.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/tuple.h>

#include "arrow_batch.h"
#include "codec_floor.h"
#include "synthetic_load.h"
#include "type_zoo.h"

namespace nb = nanobind;
using namespace nb::literals;
using namespace cadence;

NB_MODULE(_testing, m) {
  nb::module_::import_("cadence._core");  // registers Job and ArrowBatch

  m.def(
      "arrow_type_zoo", [](std::int64_t n_rows) { return bindings::ArrowBatch{arrow::type_zoo(n_rows)}; },
      "n_rows"_a,
      "A batch with one column of every exported Arrow type, valued by formulas of the row "
      "index (see tests/support/type_zoo.cpp); used to test the exporter.");

  m.def(
      "synthetic_load",
      [](runtime::Job& job, std::int64_t items, double item_ms, std::uint64_t item_bytes) {
        const auto r = runtime::run_synthetic_load(job, items, item_ms, item_bytes);
        return std::make_tuple(r.items_done, r.max_concurrent);
      },
      "job"_a, "items"_a, "item_ms"_a, "item_bytes"_a, nb::call_guard<nb::gil_scoped_release>(),
      "Synthetic work for testing the runtime: each item reserves item_bytes, sleeps item_ms. "
      "Returns (items_done, max_concurrent_items).");

  m.def(
      "drums_encode_clips_floor",
      [](nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu> clips, int sample_rate_hz,
         int flac_level, runtime::Job& job) {
        return drums::encode_clips_floor(clips.data(), clips.shape(0), clips.shape(1), sample_rate_hz,
                                         flac_level, job);
      },
      "clips"_a, "sample_rate_hz"_a, "flac_level"_a, "job"_a, nb::call_guard<nb::gil_scoped_release>(),
      "Benchmark floor: libFLAC alone encoding each row of `clips` on the job's workers; returns "
      "the total encoded bytes.");
}
