#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "cadence/runtime/build_info.h"
#include "cadence/runtime/job.h"
#include "register.h"

namespace nb = nanobind;
using cadence::runtime::Job;
using cadence::runtime::JobOptions;

namespace cadence::bindings {

void register_runtime(nb::module_& m) {
  m.def("build_info", &runtime::build_info,
        "(name, value) pairs: native library versions and origin (system or vendored), compiler, "
        "SIMD paths taken on this CPU.");
  nb::exception<runtime::Cancelled>(m, "Cancelled");

  nb::class_<Job>(m, "Job",
                  "One run's shared state: worker pool, memory budget, progress counters, stage "
                  "timers and the stop flag. Safe to poll and cancel from another thread while "
                  "an engine call runs with the GIL released.")
      .def(
          "__init__",
          [](Job* self, int jobs, std::uint64_t memory_limit_bytes) {
            new (self) Job(JobOptions{jobs, memory_limit_bytes});
          },
          nb::arg("jobs") = 0, nb::arg("memory_limit_bytes") = 0,
          "jobs: worker threads (0 = all cores); memory_limit_bytes: 0 = unlimited.")
      .def_prop_ro("jobs", &Job::jobs)
      .def_prop_ro("memory_limit_bytes", [](Job& j) { return j.budget().limit_bytes(); })
      .def_prop_ro("reserved_bytes", [](Job& j) { return j.budget().reserved_bytes(); })
      .def_prop_ro("peak_reserved_bytes", [](Job& j) { return j.budget().peak_reserved_bytes(); })
      .def_prop_ro("memory_waits", [](Job& j) { return j.budget().waits(); },
                   "How many reservations had to wait for memory.")
      .def("progress", [](Job& j) { return j.progress().snapshot(); },
           "Counters as a list of (name, value), in registration order.")
      .def(
          "stages",
          [](Job& j) {
            std::vector<std::tuple<std::string, double, std::int64_t>> out;
            for (const auto& s : j.timers().snapshot()) out.emplace_back(s.name, s.seconds, s.calls);
            return out;
          },
          "Stage timers as a list of (name, seconds summed over workers, calls).")
      .def(
          "reserve", [](Job& j, std::uint64_t bytes) { j.budget().reserve(bytes, &j.cancellation()); },
          nb::arg("bytes"), nb::call_guard<nb::gil_scoped_release>(),
          "Reserve bytes from the memory budget for a buffer Python is about to hold (blocks while "
          "the budget is spent; raises Cancelled if the job is stopped meanwhile). The gait "
          "reader calls it before holding each batch.")
      .def(
          "release", [](Job& j, std::uint64_t bytes) { j.budget().release(bytes); }, nb::arg("bytes"),
          "Give back bytes taken by reserve().")
      .def("cancel", [](Job& j) { j.cancellation().cancel(); },
           "Ask the workers to stop after their current item.")
      .def_prop_ro("cancelled", [](Job& j) { return j.cancellation().cancelled(); });
}

}  // namespace cadence::bindings
