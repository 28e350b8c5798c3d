#include "cadence/gait/feature_stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace cadence::gait {
namespace {

constexpr int P = kPointsPerCycle;

// A small file: groups of various sizes, one of them malformed, one coming back later.
struct File {
  std::vector<std::int32_t> subject, task;
  std::vector<std::int64_t> step;
  std::vector<std::vector<double>> cols{std::vector<double>{}, std::vector<double>{}};
  void add(int s, int t, int cycles, int points = P, int first_step = 0) {
    std::mt19937_64 rng(s * 31 + t);
    std::normal_distribution<double> noise(0.0, 0.05);
    for (int c = 0; c < cycles; ++c)
      for (int p = 0; p < points; ++p) {
        subject.push_back(s);
        task.push_back(t);
        step.push_back(first_step + c);
        cols[0].push_back(std::sin(6.28 * p / P) + noise(rng));
        cols[1].push_back(std::cos(6.28 * 2 * p / P) + noise(rng));
      }
  }
  std::int64_t rows() const { return static_cast<std::int64_t>(subject.size()); }
};

File sample_file() {
  File f;
  f.add(0, 0, 5);
  f.add(0, 1, 3, 149);  // dropped: 447 rows
  f.add(1, 0, 9);
  f.add(2, 1, 4);
  f.add(1, 0, 2, P, 9);  // group (1, 0) comes back, with new strides (same steps would be duplicates)
  f.add(3, 0, 1);
  return f;
}

CycleIndex index_of(const File& f) {
  CycleIndexBuilder b;
  b.append({f.subject.data(), f.task.data(), f.step.data(), nullptr, f.rows()});
  return b.finish();
}

StreamOptions options() {
  StreamOptions o;
  o.spec.kinds = {FeatureKind::kAngle, FeatureKind::kMoment};
  o.feature_names = {"a_angle_rad", "b_moment_Nm_kg"};
  o.subject_names = {"S0", "S1", "S2", "S3"};
  o.task_names = {"walk", "run"};
  return o;
}

// Rows of every pushed batch, as (subject, cycle, a mean, rmse).
struct Row {
  std::int32_t subject;
  std::int32_t cycle;
  double mean;
  double rmse;
  bool operator==(const Row&) const = default;
};

template <class T>
const T* values(const arrow::ArrayPtr& batch, const std::string& name) {
  for (const auto& f : batch->children)
    if (f.name == name) return static_cast<const T*>(f.array->buffers[1].data);
  ADD_FAILURE() << "no column " << name;
  return nullptr;
}

std::vector<Row> run(const File& f, std::int64_t batch_rows, int jobs) {
  runtime::Job job({jobs, 0});
  FeatureStream stream(index_of(f), options(), job);
  std::vector<Row> rows;
  for (std::int64_t r = 0; r < f.rows(); r += batch_rows) {
    const std::int64_t n = std::min(batch_rows, f.rows() - r);
    const auto out = stream.push({{f.cols[0].data() + r, false}, {f.cols[1].data() + r, false}}, n);
    const auto* subject = values<std::int32_t>(out, "subject");
    const auto* cycle = values<std::int32_t>(out, "cycle");
    const auto* mean = values<double>(out, "a_angle_rad__mean");
    const auto* rmse = values<double>(out, "rmse");
    for (std::int64_t i = 0; i < out->length; ++i) rows.push_back({subject[i], cycle[i], mean[i], rmse[i]});
  }
  stream.finish();
  EXPECT_EQ(job.budget().reserved_bytes(), 0u);
  return rows;
}

TEST(FeatureStream, EveryCycleOnceWhateverTheBatchSize) {
  const File f = sample_file();
  const auto whole = run(f, f.rows(), 1);
  ASSERT_EQ(whole.size(), 5u + 11u + 4u + 1u);  // the 149-point group is left out
  for (std::int64_t batch : {1, 149, 150, 151, 1000, 2999}) {
    const auto got = run(f, batch, 2);
    EXPECT_EQ(got, whole) << "batch of " << batch << " rows";
  }
}

TEST(FeatureStream, MatchesAnalyseGroupOnTheGroupAlone) {
  const File f = sample_file();
  const auto rows = run(f, 333, 2);
  // Group (1, 0): rows 750+447 .. +9 cycles, then 2 more cycles later in the file.
  std::vector<double> a, b;
  const std::int64_t first = 5 * P + 447, later = first + 9 * P + 4 * P;
  a.insert(a.end(), f.cols[0].begin() + first, f.cols[0].begin() + first + 9 * P);
  a.insert(a.end(), f.cols[0].begin() + later, f.cols[0].begin() + later + 2 * P);
  b.insert(b.end(), f.cols[1].begin() + first, f.cols[1].begin() + first + 9 * P);
  b.insert(b.end(), f.cols[1].begin() + later, f.cols[1].begin() + later + 2 * P);
  runtime::Job job({1, 0});
  const SpectrumPlan plan(P);
  const auto r = analyse_group({{a.data(), false}, {b.data(), false}}, 11, 0, nullptr, options().spec, plan, job);
  int seen = 0;
  for (const Row& row : rows)
    if (row.subject == 1) {
      EXPECT_DOUBLE_EQ(row.mean, r.stat(kMean, 0, row.cycle));
      EXPECT_DOUBLE_EQ(row.rmse, r.rmse[row.cycle]);
      ++seen;
    }
  EXPECT_EQ(seen, 11);
}

TEST(FeatureStream, TooSmallAMemoryLimitSaysWhichGroupAndHowMuch) {
  const File f = sample_file();
  runtime::Job job({1, 1024});
  FeatureStream stream(index_of(f), options(), job);
  try {
    stream.push({{f.cols[0].data(), false}, {f.cols[1].data(), false}}, 100);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("S0 / walk"), std::string::npos) << e.what();
  }
}

TEST(FeatureStream, RefusesMoreRowsThanTheFileHasAndChecksTheEnd) {
  const File f = sample_file();
  runtime::Job job({1, 0});
  FeatureStream stream(index_of(f), options(), job);
  stream.push({{f.cols[0].data(), false}, {f.cols[1].data(), false}}, 10);
  EXPECT_THROW(stream.finish(), std::runtime_error);
  EXPECT_THROW(stream.push({{f.cols[0].data(), false}, {f.cols[1].data(), false}}, f.rows()), std::invalid_argument);
}

}  // namespace
}  // namespace cadence::gait
