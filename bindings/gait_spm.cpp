// SPM statistics' Python border (cadence.gait.spm): curves come in as read-only float64 numpy
// views, results go out as dicts of numpy arrays; the GIL is released for the engine's work.
// Clusters travel as rows of SPM_CLUSTER_COLUMNS.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <stdexcept>

#include "cadence/gait/cycle_index.h"
#include "cadence/gait/spm_inference.h"
#include "cadence/gait/spm_stats.h"
#include "numpy.h"
#include "register.h"

namespace nb = nanobind;
namespace spm = cadence::gait::spm;
using cadence::runtime::Job;

namespace cadence::bindings {
namespace {

using AnyColumn = nb::ndarray<nb::ro, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using Groups = std::optional<Column<std::int32_t>>;
using Xs = std::optional<Column<double>>;

spm::Sample sample_of(int design, const Matrix<double>& y, const Groups& groups, int n_groups, const Xs& x,
                      const Groups& subjects = std::nullopt, int n_subjects = 0) {
  if (design < 0 || design > 4) throw nb::value_error("spm: unknown design code");
  spm::Sample s;
  s.design = static_cast<spm::Design>(design);
  s.y = y.data();
  s.rows = y.shape(0);
  s.nodes = y.shape(1);
  if (groups) {
    if (groups->shape(0) != s.rows) throw nb::value_error("spm: one group label per observation");
    s.groups = groups->data();
    s.n_groups = n_groups;
  }
  if (x) {
    if (x->shape(0) != s.rows) throw nb::value_error("spm: one x value per observation");
    s.x = x->data();
  }
  if (subjects) {
    if (subjects->shape(0) != s.rows) throw nb::value_error("spm: one subject label per observation");
    s.subjects = subjects->data();
    s.n_subjects = n_subjects;
  }
  return s;
}

nb::object cluster_rows(const std::vector<spm::Cluster>& clusters) {
  std::vector<double> rows;
  for (const auto& c : clusters) rows.insert(rows.end(), {c.x0, c.x1, c.extent, c.height, double(c.sign), c.metric, c.p});
  return to_numpy(std::move(rows), {clusters.size(), 7});
}

nb::dict inference_dict(spm::Inference&& r) {
  nb::dict d;
  d["zstar"] = r.zstar;
  d["clusters"] = cluster_rows(r.clusters);
  d["p_set"] = r.p_set;
  d["pdf0"] = to_numpy(std::move(r.pdf0));
  d["pdf1"] = to_numpy(std::move(r.pdf1));
  d["n_perm_unique"] = r.n_perm_unique;
  d["n_perm"] = r.n_perm;
  return d;
}

nb::dict field_dict(spm::Field&& f) {
  nb::dict d;
  d["stat"] = f.stat == spm::Stat::kT ? "T" : "F";
  d["df"] = nb::make_tuple(f.df1, f.df2);
  d["fwhm"] = f.fwhm;
  d["resels"] = nb::make_tuple(f.resels0, f.resels1);
  d["z"] = to_numpy(std::move(f.z));
  return d;
}

template <class F>
auto refused_as_value_error(F&& fn) {
  try {
    return fn();
  } catch (const std::invalid_argument& e) {
    throw nb::value_error(e.what());
  }
}

}  // namespace

void register_gait_spm(nb::module_& m) {
  m.attr("SPM_CLUSTER_COLUMNS") = nb::make_tuple("x0", "x1", "extent", "height", "sign", "metric", "p");
  m.def(
      "spm_fit",
      [](int design, const Matrix<double>& y, const Groups& groups, int n_groups, const Xs& x, bool equal_var,
         const Groups& subjects, int n_subjects) {
        auto s = sample_of(design, y, groups, n_groups, x, subjects, n_subjects);
        s.equal_var = equal_var;
        spm::Field f;
        {
          nb::gil_scoped_release unlocked;
          f = refused_as_value_error([&] { return spm::fit(s); });
        }
        return field_dict(std::move(f));
      },
      nb::arg("design"), nb::arg("y"), nb::arg("groups").none(), nb::arg("n_groups"), nb::arg("x").none(),
      nb::arg("equal_var") = true, nb::arg("subjects").none() = nb::none(), nb::arg("n_subjects") = 0,
      "The parametric SPM of (J, Q) curves: stat, z, df, fwhm, resels (src/cadence/gait/spm_stats.h; "
      "design 4, the repeated-measures ANOVA, also takes each row's subject: spm_anova1rm.h).");
  m.def(
      "spm_rft_inference",
      [](const std::string& stat, const Column<double>& z, double df1, double df2, double fwhm, double resels0,
         double resels1, double alpha, bool two_tailed) {
        spm::Field f;
        f.stat = stat == "F" ? spm::Stat::kF : spm::Stat::kT;
        f.z.assign(z.data(), z.data() + z.shape(0));
        f.df1 = df1;
        f.df2 = df2;
        f.fwhm = fwhm;
        f.resels0 = resels0;
        f.resels1 = resels1;
        spm::Inference r;
        {
          nb::gil_scoped_release unlocked;
          r = refused_as_value_error([&] { return spm::rft_inference(f, alpha, two_tailed); });
        }
        return inference_dict(std::move(r));
      },
      nb::arg("stat"), nb::arg("z"), nb::arg("df1"), nb::arg("df2"), nb::arg("fwhm"), nb::arg("resels0"),
      nb::arg("resels1"), nb::arg("alpha"), nb::arg("two_tailed"),
      "Random field theory inference: zstar, clusters (rows of SPM_CLUSTER_COLUMNS), p_set.");
  m.def(
      "spm_permutation_statistic",
      [](int design, const Matrix<double>& y, const Groups& groups, int n_groups, const Xs& x) {
        const auto s = sample_of(design, y, groups, n_groups, x);
        std::vector<double> z;
        double n = 0.0;
        {
          nb::gil_scoped_release unlocked;
          z = refused_as_value_error([&] { return spm::permutation_statistic(s); });
          n = spm::unique_permutations(s);
        }
        return nb::make_tuple(to_numpy(std::move(z)), n);
      },
      nb::arg("design"), nb::arg("y"), nb::arg("groups").none(), nb::arg("n_groups"), nb::arg("x").none(),
      "The nonparametric statistic of the identity labelling and the number of unique permutations.");
  m.def(
      "spm_permutation_inference",
      [](int design, const Matrix<double>& y, const Groups& groups, int n_groups, const Xs& x,
         const Column<double>& z, double alpha, bool two_tailed, std::int64_t iterations, std::uint64_t seed,
         Job& job) {
        const auto s = sample_of(design, y, groups, n_groups, x);
        if (z.shape(0) != s.nodes) throw nb::value_error("spm: z has another number of nodes");
        std::vector<double> zv(z.data(), z.data() + z.shape(0));
        spm::Inference r;
        {
          nb::gil_scoped_release unlocked;
          r = refused_as_value_error([&] {
            return spm::permutation_inference(s, zv, alpha, {two_tailed, iterations, seed}, &job);
          });
        }
        return inference_dict(std::move(r));
      },
      nb::arg("design"), nb::arg("y"), nb::arg("groups").none(), nb::arg("n_groups"), nb::arg("x").none(),
      nb::arg("z"), nb::arg("alpha"), nb::arg("two_tailed"), nb::arg("iterations"), nb::arg("seed"), nb::arg("job"),
      "Permutation inference: zstar, clusters, pdf0 (max statistic per permutation), pdf1 (largest "
      "cluster integral per permutation), n_perm_unique, n_perm.");
  m.def(
      "spm_compare_all",
      [](int design, const std::vector<Matrix<double>>& ys, const Groups& groups, int n_groups, const Xs& x,
         bool nonparametric, double alpha, bool two_tailed, std::int64_t iterations, std::uint64_t seed, Job& job) {
        std::vector<spm::Sample> samples;
        for (const auto& y : ys) samples.push_back(sample_of(design, y, groups, n_groups, x));
        std::vector<spm::Comparison> out;
        {
          nb::gil_scoped_release unlocked;
          out = spm::compare_all(samples, nonparametric, alpha, {two_tailed, iterations, seed}, job);
        }
        nb::list results;
        for (auto& c : out) {
          nb::dict d = inference_dict(std::move(c.inference));
          d["error"] = c.error;
          d["z"] = to_numpy(std::move(c.z));
          d["fwhm"] = c.field.fwhm;
          d["df"] = nb::make_tuple(c.field.df1, c.field.df2);
          results.append(d);
        }
        return results;
      },
      nb::arg("design"), nb::arg("ys"), nb::arg("groups").none(), nb::arg("n_groups"), nb::arg("x").none(),
      nb::arg("nonparametric"), nb::arg("alpha"), nb::arg("two_tailed"), nb::arg("iterations"), nb::arg("seed"),
      nb::arg("job"),
      "One test per (J, Q) array of `ys` on the job's pool; a refused one carries its reason in 'error'.");
}

}  // namespace cadence::bindings
