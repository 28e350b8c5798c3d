// Time-indexed gait to phase (gait/phase_convert.h) for Python: columns in as read-only float64
// numpy views, the 150-point strides out as numpy arrays owning the engine's vectors, the kept
// and dropped strides as plain arrays. The GIL is released for the engine's work.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "cadence/gait/phase_convert.h"
#include "codes.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace cadence::bindings {

namespace {

nb::dict strides_dict(std::vector<gait::StrideRecord>&& s) {
  std::vector<std::int32_t> trial, stride;
  std::vector<double> start, end;
  std::vector<std::string> reason;
  for (const auto& r : s) {
    trial.push_back(r.trial);
    stride.push_back(r.stride);
    start.push_back(r.start_s);
    end.push_back(r.end_s);
    reason.emplace_back(gait::drop_name(r.drop));
  }
  nb::dict d;
  d["trial"] = to_numpy(std::move(trial));
  d["stride"] = to_numpy(std::move(stride));
  d["start_s"] = to_numpy(std::move(start));
  d["end_s"] = to_numpy(std::move(end));
  d["reason"] = nb::cast(reason);
  return d;
}

}  // namespace

void register_gait_phase(nb::module_& m) {
  m.def(
      "gait_stride_drop_reasons",
      [] {
        return names_by_code(gait::kStrideDropCount, [](int d) { return gait::drop_name(static_cast<gait::StrideDrop>(d)); });
      },
      "Names of the stride drop codes, by code (0 is kept).");
  m.def(
      "gait_phase_defaults",
      [] {
        const gait::PhaseConfig c;
        nb::dict d;
        d["threshold"] = c.threshold;
        d["threshold_bw"] = gait::kThresholdBodyWeights;
        d["smooth_samples"] = c.smooth_samples;
        d["min_contact_gap_s"] = c.min_contact_gap_s;
        d["min_stride_s"] = c.min_stride_s;
        d["max_stride_s"] = c.max_stride_s;
        d["drop_first"] = c.drop_first;
        d["drop_last"] = c.drop_last;
        d["iqr_factor"] = c.iqr_factor;
        return d;
      },
      "LocoHub's stride segmentation defaults (gait::PhaseConfig): threshold in newtons, "
      "threshold_bw for a force in body weights.");
  m.def(
      "gait_to_phase",
      [](Column<double> time_s, Column<double> force, Column<std::int64_t> trial_offsets,
         const std::vector<Column<double>>& features, runtime::Job& job, double threshold, int smooth_samples,
         double min_contact_gap_s, double min_stride_s, double max_stride_s, int drop_first, int drop_last,
         double iqr_factor, bool events) {
        const std::size_t n = time_s.shape(0);
        if (force.shape(0) != n) throw nb::value_error("gait_to_phase: the force column's length differs from time_s");
        for (const auto& f : features)
          if (f.shape(0) != n) throw nb::value_error("gait_to_phase: a feature column's length differs from time_s");
        std::vector<std::int64_t> offsets(trial_offsets.data(), trial_offsets.data() + trial_offsets.shape(0));
        for (std::size_t i = 0; i < offsets.size(); ++i)
          if (offsets[i] < 0 || offsets[i] > static_cast<std::int64_t>(n) || (i && offsets[i] < offsets[i - 1]))
            throw nb::value_error("gait_to_phase: trial_offsets must rise from 0 to the row count");
        std::vector<const double*> cols;
        for (const auto& f : features) cols.push_back(f.data());
        gait::PhaseConfig c;
        c.threshold = threshold;
        c.smooth_samples = smooth_samples;
        c.min_contact_gap_s = min_contact_gap_s;
        c.min_stride_s = min_stride_s;
        c.max_stride_s = max_stride_s;
        c.drop_first = drop_first;
        c.drop_last = drop_last;
        c.iqr_factor = iqr_factor;
        c.events = events;
        gait::PhaseBatch b;
        {
          nb::gil_scoped_release release;
          b = gait::to_phase(time_s.data(), force.data(), offsets, cols, c, job);
        }
        nb::list values;
        for (auto& v : b.values) {
          const std::size_t n = v.size;
          auto column = std::make_unique<gait::PhaseColumn>(std::move(v));
          double* data = column->data.get();
          values.append(to_numpy(std::move(column), data, {n}));
        }
        return nb::make_tuple(values, strides_dict(std::move(b.kept)), strides_dict(std::move(b.dropped)),
                              to_numpy(std::move(b.strikes_per_trial)));
      },
      "time_s"_a, "force"_a, "trial_offsets"_a, "features"_a, "job"_a, nb::kw_only(), "threshold"_a,
      "smooth_samples"_a, "min_contact_gap_s"_a, "min_stride_s"_a, "max_stride_s"_a, "drop_first"_a,
      "drop_last"_a, "iqr_factor"_a, "events"_a,
      "Whole trials (rows split by trial_offsets) to 150-point strides: (values per feature, kept "
      "strides, dropped strides with reasons, heel strikes per trial).");
}

}  // namespace cadence::bindings
