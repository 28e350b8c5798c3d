// The gait cycle engine's Python border: key and feature columns come in as read-only numpy
// views of pyarrow buffers (float32 or float64, never copied), results go out as numpy arrays
// owning the engine's vectors or as Arrow batches. The GIL is released for all engine work.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <stdexcept>

#include "arrow_batch.h"
#include "codes.h"
#include "cadence/gait/cycle_index.h"
#include "cadence/gait/correlation.h"
#include "cadence/gait/cycle_stats.h"
#include "cadence/gait/feature_stream.h"
#include "cadence/gait/mean_curves.h"
#include "cadence/gait/group_analysis.h"
#include "cadence/gait/validation.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
namespace gait = cadence::gait;
using cadence::runtime::Job;

namespace cadence::bindings {

namespace {

using AnyVector = nb::ndarray<nb::ro, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <class T>
using Vector = nb::ndarray<const T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// A numpy array that owns a moved-in std::vector (no copy).

std::vector<gait::ColumnView> views_of(const std::vector<AnyVector>& columns, std::int64_t rows) {
  std::vector<gait::ColumnView> views;
  views.reserve(columns.size());
  for (const auto& c : columns) {
    const bool f32 = c.dtype() == nb::dtype<float>();
    if (!f32 && c.dtype() != nb::dtype<double>())
      throw nb::type_error("gait: feature columns must be float32 or float64");
    if (static_cast<std::int64_t>(c.shape(0)) < rows)
      throw nb::value_error("gait: a feature column is shorter than the batch");
    views.push_back({c.data(), f32});
  }
  return views;
}

gait::AnalysisSpec make_spec(const std::vector<int>& kinds, int nan_policy, double threshold,
                             bool among_valid,
                             const std::vector<std::vector<std::tuple<int, int, double, double>>>& checks) {
  gait::AnalysisSpec spec;
  for (int k : kinds) {
    if (k < 0 || k >= gait::kFeatureKindCount) throw nb::value_error("gait: unknown feature kind code");
    spec.kinds.push_back(static_cast<gait::FeatureKind>(k));
  }
  if (nan_policy < 0 || nan_policy >= gait::kNanPolicyCount) throw nb::value_error("gait: unknown nan_policy code");
  spec.nan_policy = static_cast<gait::NanPolicy>(nan_policy);
  spec.outlier_threshold = threshold;
  spec.outliers_among_valid = among_valid;
  for (const auto& task : checks) {
    auto& out = spec.range_checks.emplace_back();
    for (const auto& [f, p, lo, hi] : task) {
      if (p < 0 || p >= gait::kPointsPerCycle) throw nb::value_error("gait: range check phase index out of 0..149");
      out.push_back({f, p, lo, hi});
    }
  }
  return spec;
}

nb::dict index_groups(const gait::CycleIndex& ix) {
  std::vector<std::int32_t> subject, task, runs;
  std::vector<std::int64_t> rows, first_row, first_cycle, cycles;
  std::vector<std::uint8_t> reason;
  for (const auto& g : ix.groups) {
    subject.push_back(g.subject);
    task.push_back(g.task);
    runs.push_back(g.runs);
    rows.push_back(g.rows);
    first_row.push_back(g.first_row);
    first_cycle.push_back(g.first_cycle);
    cycles.push_back(g.cycles);
    reason.push_back(static_cast<std::uint8_t>(g.reason));
  }
  const std::size_t n = ix.groups.size();
  nb::dict d;
  d["subject"] = to_numpy(std::move(subject), {n});
  d["task"] = to_numpy(std::move(task), {n});
  d["runs"] = to_numpy(std::move(runs), {n});
  d["rows"] = to_numpy(std::move(rows), {n});
  d["first_row"] = to_numpy(std::move(first_row), {n});
  d["first_cycle"] = to_numpy(std::move(first_cycle), {n});
  d["cycles"] = to_numpy(std::move(cycles), {n});
  d["reason"] = to_numpy(std::move(reason), {n});
  return d;
}

nb::dict index_cycles(const gait::CycleIndex& ix) {
  std::vector<std::int64_t> row, step;
  std::vector<std::int32_t> condition;
  std::vector<std::uint8_t> reason, step_known;
  for (const auto& c : ix.cycles) {
    row.push_back(c.row);
    step.push_back(c.step);
    reason.push_back(static_cast<std::uint8_t>(c.reason));
    condition.push_back(c.condition);
    step_known.push_back(c.step_known);
  }
  const std::size_t n = ix.cycles.size();
  nb::dict d;
  d["row"] = to_numpy(std::move(row), {n});
  d["step"] = to_numpy(std::move(step), {n});
  d["reason"] = to_numpy(std::move(reason), {n});
  d["condition"] = to_numpy(std::move(condition), {n});
  d["step_known"] = to_numpy(std::move(step_known), {n});
  return d;
}

nb::dict index_runs(const gait::CycleIndex& ix) {
  std::vector<std::int64_t> begin, rows;
  std::vector<std::int32_t> group;
  for (const auto& r : ix.runs) {
    begin.push_back(r.row_begin);
    rows.push_back(r.rows);
    group.push_back(r.group);
  }
  const std::size_t n = ix.runs.size();
  nb::dict d;
  d["row_begin"] = to_numpy(std::move(begin), {n});
  d["rows"] = to_numpy(std::move(rows), {n});
  d["group"] = to_numpy(std::move(group), {n});
  return d;
}

nb::dict group_result(gait::GroupResult&& r) {
  const std::size_t n = static_cast<std::size_t>(r.cycles), nf = static_cast<std::size_t>(r.features);
  const std::size_t P = gait::kPointsPerCycle;
  nb::dict d;
  d["stats"] = to_numpy(std::move(r.stats), {static_cast<std::size_t>(gait::kStatCount), nf, n});
  d["rmse"] = to_numpy(std::move(r.rmse), {n});
  d["valid"] = to_numpy(std::move(r.valid), {n});
  d["outlier"] = to_numpy(std::move(r.outlier), {n});
  d["fail"] = to_numpy(std::move(r.fail), {nf, n});
  d["mean_pattern"] = to_numpy(std::move(r.mean_pattern), {nf, P});
  d["std_pattern"] = to_numpy(std::move(r.std_pattern), {nf, P});
  d["rmse_threshold"] = r.rmse_threshold;
  return d;
}

}  // namespace

void register_gait(nb::module_& m) {
  nb::class_<gait::CycleIndex>(m, "GaitIndex",
                               "The subject x task -> cycle index of a phase-indexed file (see "
                               "src/cadence/gait/cycle_index.h).")
      .def_prop_ro("rows", [](const gait::CycleIndex& ix) { return ix.rows; })
      .def_prop_ro("has_step", [](const gait::CycleIndex& ix) { return ix.has_step; })
      .def_prop_ro("has_phase", [](const gait::CycleIndex& ix) { return ix.has_phase; })
      .def("groups", &index_groups,
           "Per group (order of first appearance): subject, task (codes), runs, rows, first_row, "
           "first_cycle, cycles, reason (drop reason code; 0 = usable).")
      .def("cycles", &index_cycles,
           "Per cycle of the usable groups: row, step (-1 where step_known is 0), reason, "
           "condition (task_id / task_info code), step_known.")
      .def("runs", &index_runs, "Per run (contiguous rows of one group): row_begin, rows, group.");

  nb::class_<gait::CycleIndexBuilder>(m, "GaitIndexBuilder",
                                      "Builds a GaitIndex from key columns streamed in file order.")
      .def(nb::init<>())
      .def(
          "append",
          [](gait::CycleIndexBuilder& b, Vector<std::int32_t> subject, Vector<std::int32_t> task,
             std::optional<Vector<std::int64_t>> step, std::optional<Vector<double>> phase,
             std::optional<Vector<std::uint8_t>> step_valid, std::optional<Vector<std::int32_t>> condition) {
            const auto n = static_cast<std::int64_t>(subject.shape(0));
            const auto len = [](const auto& v) { return static_cast<std::int64_t>(v->shape(0)); };
            if (static_cast<std::int64_t>(task.shape(0)) != n || (step && len(step) != n) || (phase && len(phase) != n) ||
                (step_valid && len(step_valid) != n) || (condition && len(condition) != n))
              throw nb::value_error("GaitIndexBuilder.append: key columns differ in length");
            if (step_valid && !step) throw nb::value_error("GaitIndexBuilder.append: step_valid without step");
            gait::KeyBatch kb{subject.data(), task.data(), step ? step->data() : nullptr,
                              phase ? phase->data() : nullptr, n, step_valid ? step_valid->data() : nullptr,
                              condition ? condition->data() : nullptr};
            nb::gil_scoped_release unlocked;
            b.append(kb);
          },
          nb::arg("subject"), nb::arg("task"), nb::arg("step").none(), nb::arg("phase").none(),
          nb::arg("step_valid").none() = nb::none(), nb::arg("condition").none() = nb::none(),
          "Append one batch: int32 subject and task codes, int64 step (or None), float64 phase "
          "(or None), uint8 step_valid (0 = empty step cell; None = all present), int32 condition "
          "codes (task_id or task_info; None = no such column).")
      .def("finish", &gait::CycleIndexBuilder::finish, nb::call_guard<nb::gil_scoped_release>());

  // The engine's codes, by code, so that Python never mirrors them by hand.
  m.attr("GAIT_POINTS_PER_CYCLE") = gait::kPointsPerCycle;
  m.def(
      "gait_drop_reasons",
      [] { return names_by_code(gait::kDropReasonCount, [](int r) { return gait::drop_reason_name(static_cast<gait::DropReason>(r)); }); },
      "Names of the drop reason codes, by code.");
  m.def(
      "gait_stat_names", [] { return names_by_code(gait::kStatCount, gait::stat_name); },
      "Names of the per-cycle statistics, in the engine's order.");
  m.def(
      "gait_feature_kinds",
      [] { return names_by_code(gait::kFeatureKindCount, [](int k) { return gait::feature_kind_name(static_cast<gait::FeatureKind>(k)); }); },
      "Names of the feature kind codes (LocoHub's rule that applies), by code.");
  m.def(
      "gait_fail_bits", [] { return names_by_code(gait::kFailBitCount, gait::fail_bit_name); },
      "Names of the validation failure bits: entry i names the bit 1 << i.");
  m.def(
      "gait_nan_policies",
      [] { return names_by_code(gait::kNanPolicyCount, [](int p) { return gait::nan_policy_name(static_cast<gait::NanPolicy>(p)); }); },
      "Names of the NaN policy codes, by code.");

  m.def(
      "gait_analyse_group",
      [](const std::vector<AnyVector>& columns, std::int64_t cycles, const std::vector<int>& kinds,
         int nan_policy, double threshold, bool among_valid, Job& job) {
        if (columns.size() != kinds.size()) throw nb::value_error("gait_analyse_group: one kind per column");
        auto views = views_of(columns, cycles * gait::kPointsPerCycle);
        auto spec = make_spec(kinds, nan_policy, threshold, among_valid, {});
        gait::GroupResult r;
        {
          nb::gil_scoped_release unlocked;
          const gait::SpectrumPlan plan(gait::kPointsPerCycle);
          r = gait::analyse_group(views, cycles, -1, nullptr, spec, plan, job);
        }
        return group_result(std::move(r));
      },
      nb::arg("columns"), nb::arg("cycles"), nb::arg("kinds"), nb::arg("nan_policy"),
      nb::arg("outlier_threshold"), nb::arg("outliers_among_valid"), nb::arg("job"),
      "Analyse one group given as one float32/float64 column per feature (cycles * 150 rows, no "
      "copy). Returns numpy arrays: stats (stat, feature, cycle), rmse, valid, outlier, fail "
      "(feature, cycle), mean_pattern and std_pattern (feature, 150), and rmse_threshold.");

  m.def(
      "gait_feature_correlations",
      [](const std::vector<AnyVector>& columns, std::int64_t rows, int nan_policy, Job& job) {
        if (rows < 0) throw nb::value_error("gait_feature_correlations: rows must be >= 0");
        if (nan_policy < 0 || nan_policy >= gait::kNanPolicyCount)
          throw nb::value_error("gait: unknown nan_policy code");
        auto views = views_of(columns, rows);
        std::vector<double> r;
        {
          nb::gil_scoped_release unlocked;
          r = gait::feature_correlations(views, rows, static_cast<gait::NanPolicy>(nan_policy), job);
        }
        return to_numpy(std::move(r), {columns.size(), columns.size()});
      },
      nb::arg("columns"), nb::arg("rows"), nb::arg("nan_policy"), nb::arg("job"),
      "Pearson correlation between float32/float64 columns over their first `rows` values (no "
      "copy): a (features, features) float64 array (src/cadence/gait/correlation.h).");
  m.def(
      "gait_feature_correlations_parts",
      [](const std::vector<std::vector<AnyVector>>& parts, int nan_policy, Job& job) {
        if (nan_policy < 0 || nan_policy >= gait::kNanPolicyCount)
          throw nb::value_error("gait: unknown nan_policy code");
        std::vector<std::vector<gait::ColumnView>> views;
        std::vector<std::int64_t> rows;
        const std::size_t features = parts.empty() ? 0 : parts[0].size();
        for (const auto& p : parts) {
          if (p.size() != features) throw nb::value_error("gait_feature_correlations_parts: parts differ in columns");
          rows.push_back(p.empty() ? 0 : static_cast<std::int64_t>(p[0].shape(0)));
          views.push_back(views_of(p, rows.back()));
        }
        std::vector<double> r;
        {
          nb::gil_scoped_release unlocked;
          r = gait::feature_correlations(views, rows, static_cast<gait::NanPolicy>(nan_policy), job);
        }
        return to_numpy(std::move(r), {features, features});
      },
      nb::arg("parts"), nb::arg("nan_policy"), nb::arg("job"),
      "Pearson correlation over the rows of several parts taken together (each a list of "
      "float32/float64 columns, one per feature, as long as its first), none concatenated.");

  nb::class_<gait::FeatureStream>(m, "GaitFeatureStream",
                                  "Per-cycle features of a file streamed batch by batch (see "
                                  "src/cadence/gait/feature_stream.h).")
      .def(
          "__init__",
          [](gait::FeatureStream* self, const gait::CycleIndex& index, std::vector<std::string> features,
             const std::vector<int>& kinds, std::vector<std::string> subjects, std::vector<std::string> tasks,
             int nan_policy, double threshold, bool among_valid,
             const std::vector<std::vector<std::tuple<int, int, double, double>>>& range_checks, bool fail_flags,
             Job& job) {
            gait::StreamOptions o;
            o.spec = make_spec(kinds, nan_policy, threshold, among_valid, range_checks);
            o.feature_names = std::move(features);
            o.subject_names = std::move(subjects);
            o.task_names = std::move(tasks);
            o.fail_flags = fail_flags;
            new (self) gait::FeatureStream(index, std::move(o), job);
          },
          nb::arg("index"), nb::arg("features"), nb::arg("kinds"), nb::arg("subjects"), nb::arg("tasks"),
          nb::arg("nan_policy"), nb::arg("outlier_threshold"), nb::arg("outliers_among_valid"),
          nb::arg("range_checks"), nb::arg("fail_flags"), nb::arg("job"), nb::keep_alive<1, 12>())
      .def(
          "push",
          [](gait::FeatureStream& s, const std::vector<AnyVector>& columns, std::int64_t rows) {
            auto views = views_of(columns, rows);
            nb::gil_scoped_release unlocked;
            return ArrowBatch{s.push(views, rows)};
          },
          nb::arg("columns"), nb::arg("rows"),
          "Push the next `rows` rows (one array per feature, views, no copy); returns an Arrow "
          "batch with the features of every cycle completed by them.")
      .def("finish", &gait::FeatureStream::finish, nb::call_guard<nb::gil_scoped_release>())
      .def("range_failures", [](const gait::FeatureStream& s) { return ArrowBatch{s.range_failures()}; })
      .def_prop_ro("rows_pushed", &gait::FeatureStream::rows_pushed);

  nb::class_<gait::MeanCurveStream>(m, "GaitMeanCurveStream",
                                    "Every subject x task group's mean curve of every feature, "
                                    "accumulated batch by batch (src/cadence/gait/mean_curves.h).")
      .def(
          "__init__",
          [](gait::MeanCurveStream* self, const gait::CycleIndex& index, std::size_t features, int nan_policy,
             Job& job) {
            if (nan_policy < 0 || nan_policy >= gait::kNanPolicyCount)
              throw nb::value_error("gait: unknown nan_policy code");
            new (self) gait::MeanCurveStream(index, features, static_cast<gait::NanPolicy>(nan_policy), job);
          },
          nb::arg("index"), nb::arg("features"), nb::arg("nan_policy"), nb::arg("job"), nb::keep_alive<1, 5>())
      .def(
          "push",
          [](gait::MeanCurveStream& s, const std::vector<AnyVector>& columns, std::int64_t rows) {
            auto views = views_of(columns, rows);
            nb::gil_scoped_release unlocked;
            s.push(views, rows);
          },
          nb::arg("columns"), nb::arg("rows"), "Push the next `rows` rows (one array per feature, views, no copy).")
      .def(
          "finish",
          [](gait::MeanCurveStream& s, std::size_t groups, std::size_t features) {
            std::vector<double> r;
            {
              nb::gil_scoped_release unlocked;
              r = s.finish();
            }
            if (r.size() != groups * features * gait::kPointsPerCycle)
              throw nb::value_error("GaitMeanCurveStream.finish: groups x features do not match the stream");
            return to_numpy(std::move(r), {groups, features, static_cast<std::size_t>(gait::kPointsPerCycle)});
          },
          nb::arg("groups"), nb::arg("features"),
          "(groups, features, 150) float64 means; NaN for a group that is not whole cycles.")
      .def_prop_ro("rows_pushed", &gait::MeanCurveStream::rows_pushed);
}

}  // namespace cadence::bindings
