#include "cadence/gait/feature_stream.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cadence::gait {

namespace {
constexpr int P = kPointsPerCycle;
}

FeatureStream::FeatureStream(CycleIndex index, StreamOptions options, runtime::Job& job)
    : index_(std::move(index)), options_(std::move(options)), job_(job), plan_(P) {
  if (options_.spec.kinds.size() != options_.feature_names.size())
    throw std::invalid_argument("FeatureStream: one kind per feature name is required");
  auto& progress = job_.progress();
  progress.set_total(index_.rows);
  rows_done_ = &progress.counter("rows");
  cycles_done_ = &progress.counter("cycles");
  analyse_stage_ = &job_.timers().stage("analyse");
  copy_stage_ = &job_.timers().stage("copy across batches");
}

void FeatureStream::analyse(std::int32_t group, const std::vector<ColumnView>& views,
                            std::vector<Done>& out) {
  const GroupInfo& g = index_.groups[group];
  std::vector<std::uint8_t> include(g.cycles);
  for (std::int64_t c = 0; c < g.cycles; ++c)
    include[c] = index_.cycles[g.first_cycle + c].reason == DropReason::kNone;
  runtime::ScopedStage timed(*analyse_stage_);
  out.push_back({group, analyse_group(views, g.cycles, g.task, include.data(), options_.spec, plan_, job_)});
  job_.progress().add(*cycles_done_, g.cycles);
}

arrow::ArrayPtr FeatureStream::push(const std::vector<ColumnView>& columns, std::int64_t rows) {
  const std::size_t nf = options_.feature_names.size();
  if (columns.size() != nf)
    throw std::invalid_argument("FeatureStream::push: expected " + std::to_string(nf) + " columns, got " +
                                std::to_string(columns.size()));
  const std::int64_t r0 = rows_seen_, r1 = r0 + rows;
  if (r1 > index_.rows) throw std::invalid_argument("FeatureStream::push: more rows than the index holds");
  std::vector<Done> done;
  while (run_cursor_ < index_.runs.size()) {
    job_.cancellation().throw_if_cancelled();
    const Run& run = index_.runs[run_cursor_];
    const std::int64_t run_end = run.row_begin + run.rows;
    const std::int64_t b = std::max(run.row_begin, r0), e = std::min(run_end, r1);
    if (b >= e) break;  // the run starts after this batch
    const GroupInfo& g = index_.groups[run.group];
    if (g.usable()) {
      if (g.runs == 1 && run.row_begin >= r0 && run_end <= r1) {
        std::vector<ColumnView> views(nf);
        const std::int64_t off = run.row_begin - r0;
        for (std::size_t f = 0; f < nf; ++f) {
          const auto* base = static_cast<const char*>(columns[f].data);
          views[f] = {base + off * (columns[f].is_float32 ? 4 : 8), columns[f].is_float32};
        }
        analyse(run.group, views, done);
      } else {
        auto [it, fresh] = pending_.try_emplace(run.group);
        Pending& pend = it->second;
        if (fresh) {
          const std::uint64_t bytes = static_cast<std::uint64_t>(g.rows) * nf * sizeof(double);
          auto& budget = job_.budget();
          if (budget.limit_bytes() != 0 && budget.reserved_bytes() + bytes > budget.limit_bytes()) {
            // One producer holds every reservation here, so waiting could never succeed.
            throw std::runtime_error(
                "memory limit too small: subject x task group " + options_.subject_names.at(g.subject) + " / " +
                options_.task_names.at(g.task) + " crosses a batch boundary and needs " +
                std::to_string((bytes >> 20) + 1) + " MiB more to be held whole; raise the memory limit");
          }
          pend.reservation = runtime::Reservation(budget, bytes, &job_.cancellation());
          pend.data.resize(static_cast<std::size_t>(g.rows) * nf);
        }
        {
          runtime::ScopedStage timed(*copy_stage_);
          for (std::size_t f = 0; f < nf; ++f) {
            double* dst = pend.data.data() + f * g.rows + pend.filled;
            if (columns[f].is_float32) {
              const float* src = static_cast<const float*>(columns[f].data) + (b - r0);
              std::copy(src, src + (e - b), dst);
            } else {
              const double* src = static_cast<const double*>(columns[f].data) + (b - r0);
              std::copy(src, src + (e - b), dst);
            }
          }
        }
        pend.filled += e - b;
        if (pend.filled == g.rows) {
          std::vector<ColumnView> views(nf);
          for (std::size_t f = 0; f < nf; ++f) views[f] = {pend.data.data() + f * g.rows, false};
          analyse(run.group, views, done);
          pending_.erase(it);
        }
      }
    }
    if (run_end > r1) break;  // the run goes on in the next batch
    ++run_cursor_;
  }
  rows_seen_ = r1;
  job_.progress().add(*rows_done_, rows);
  return to_batch(done);
}

void FeatureStream::finish() const {
  if (rows_seen_ != index_.rows || !pending_.empty())
    throw std::runtime_error("FeatureStream: the file ended early: " + std::to_string(rows_seen_) + " of " +
                             std::to_string(index_.rows) + " rows pushed");
}

arrow::ArrayPtr FeatureStream::to_batch(const std::vector<Done>& done) {
  const std::size_t nf = options_.feature_names.size();
  std::vector<std::int32_t> subject, task, cycle;
  std::vector<std::int64_t> step, row;
  std::vector<std::uint8_t> valid, outlier;
  std::vector<double> rmse;
  std::vector<std::vector<double>> stats(nf * kStatCount);
  std::vector<std::vector<std::uint8_t>> fails(options_.fail_flags ? nf : 0);
  for (const Done& d : done) {
    const GroupInfo& g = index_.groups[d.group];
    const GroupResult& r = d.result;
    for (std::int64_t c = 0; c < r.cycles; ++c) {
      const CycleInfo& info = index_.cycles[g.first_cycle + c];
      if (info.reason != DropReason::kNone) continue;  // in the drop log
      subject.push_back(g.subject);
      task.push_back(g.task);
      step.push_back(info.step);
      cycle.push_back(static_cast<std::int32_t>(c));
      row.push_back(info.row);
      valid.push_back(r.valid[c]);
      outlier.push_back(r.outlier[c]);
      rmse.push_back(r.rmse[c]);
      for (std::size_t f = 0; f < nf; ++f) {
        for (int s = 0; s < kStatCount; ++s) stats[f * kStatCount + s].push_back(r.stat(s, static_cast<int>(f), c));
        if (options_.fail_flags) fails[f].push_back(r.fail[f * r.cycles + c]);
      }
    }
    for (const RangeFailure& rf : r.range_failures)
      failures_.push_back({d.group, rf.cycle, g.task, rf.check, rf.value});
  }
  std::vector<arrow::Field> fields;
  fields.push_back({"subject", arrow::dictionary_utf8(std::move(subject), options_.subject_names), false});
  fields.push_back({"task", arrow::dictionary_utf8(std::move(task), options_.task_names), false});
  fields.push_back({"step", arrow::primitive(std::move(step)), false});
  fields.push_back({"cycle", arrow::primitive(std::move(cycle)), false});
  fields.push_back({"row", arrow::primitive(std::move(row)), false});
  fields.push_back({"valid", arrow::boolean(valid), false});
  fields.push_back({"is_outlier", arrow::boolean(outlier), false});
  fields.push_back({"rmse", arrow::primitive(std::move(rmse)), false});
  for (std::size_t f = 0; f < nf; ++f)
    for (int s = 0; s < kStatCount; ++s)
      fields.push_back({options_.feature_names[f] + "__" + stat_name(s),
                        arrow::primitive(std::move(stats[f * kStatCount + s])), false});
  for (std::size_t f = 0; f < fails.size(); ++f)
    fields.push_back({options_.feature_names[f] + "__fail", arrow::primitive(std::move(fails[f])), false});
  return arrow::struct_array(std::move(fields));
}

arrow::ArrayPtr FeatureStream::range_failures() const {
  std::vector<std::int32_t> subject, task, cycle, point;
  std::vector<std::int64_t> step;
  std::vector<std::string> feature;
  std::vector<double> value, lo, hi;
  for (const Failure& f : failures_) {
    const GroupInfo& g = index_.groups[f.group];
    const RangeCheck& chk = options_.spec.range_checks[f.task][f.check];
    subject.push_back(g.subject);
    task.push_back(g.task);
    step.push_back(index_.cycles[g.first_cycle + f.cycle].step);
    cycle.push_back(static_cast<std::int32_t>(f.cycle));
    feature.push_back(options_.feature_names[chk.feature]);
    point.push_back(chk.point);
    value.push_back(f.value);
    lo.push_back(chk.min);
    hi.push_back(chk.max);
  }
  std::vector<arrow::Field> fields;
  fields.push_back({"subject", arrow::dictionary_utf8(std::move(subject), options_.subject_names), false});
  fields.push_back({"task", arrow::dictionary_utf8(std::move(task), options_.task_names), false});
  fields.push_back({"step", arrow::primitive(std::move(step)), false});
  fields.push_back({"cycle", arrow::primitive(std::move(cycle)), false});
  fields.push_back({"variable", arrow::utf8(feature), false});
  fields.push_back({"phase_index", arrow::primitive(std::move(point)), false});
  fields.push_back({"value", arrow::primitive(std::move(value)), false});
  fields.push_back({"min", arrow::primitive(std::move(lo)), false});
  fields.push_back({"max", arrow::primitive(std::move(hi)), false});
  return arrow::struct_array(std::move(fields));
}

}  // namespace cadence::gait
