#include "cadence/gait/feature_stream.h"

#include <algorithm>
#include <memory>
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
  build_stage_ = &job_.timers().stage("build output");
  kept_.assign(index_.groups.size(), 0);
  for (std::size_t i = 0; i < index_.groups.size(); ++i) {
    const GroupInfo& g = index_.groups[i];
    if (!g.usable()) continue;
    largest_group_rows_ = std::max(largest_group_rows_, g.rows);
    for (std::int64_t c = 0; c < g.cycles; ++c) kept_[i] += index_.cycles[g.first_cycle + c].reason == DropReason::kNone;
  }
}

// The columns of one returned batch, sized once (the cycles of every group completed by the
// batch are known before any is analysed) and filled group by group.
struct FeatureStream::Output {
  std::vector<std::int32_t> subject, task, cycle;
  std::vector<std::int64_t> step, row;
  std::vector<std::uint8_t> valid, outlier, step_known;
  std::vector<double> rmse;
  std::vector<std::vector<double>> stats;         // [feature * kStatCount + stat][row]
  std::vector<std::vector<std::uint8_t>> fails;   // [feature][row], with fail_flags only
  Output(std::size_t n, std::size_t nf, bool fail_flags)
      : subject(n), task(n), cycle(n), step(n), row(n), valid(n), outlier(n), step_known(n), rmse(n),
        stats(nf * kStatCount, std::vector<double>(n)),
        fails(fail_flags ? nf : 0, std::vector<std::uint8_t>(n)) {}
};

FeatureStream::Pending& FeatureStream::start_pending(std::int32_t group, std::size_t nf) {
  const GroupInfo& g = index_.groups[group];
  const std::size_t values = static_cast<std::size_t>(g.rows) * nf;
  Pending& pend = pending_[group];
  pend.rows = g.rows;
  pend.filled = 0;
  if (spare_.capacity >= values) {  // reuse: no fresh pages for the kernel to fault in and zero
    pend.data = std::move(spare_.data);
    pend.capacity = spare_.capacity;
    pend.reservation = std::move(spare_.reservation);
    spare_ = Pending{};
    return pend;
  }
  spare_ = Pending{};  // give its memory and its bytes back before asking for more
  auto& budget = job_.budget();
  const std::uint64_t bytes = values * sizeof(double);
  if (budget.limit_bytes() != 0 && budget.reserved_bytes() + bytes > budget.limit_bytes()) {
    pending_.erase(group);
    // One producer holds every reservation here, so waiting could never succeed.
    // A setting to change (ValueError in Python), not a fault.
    throw std::invalid_argument(
        "memory limit too small: subject x task group " + options_.subject_names.at(g.subject) + " / " +
        options_.task_names.at(g.task) + " crosses a batch boundary and needs " +
        std::to_string((bytes >> 20) + 1) + " MiB more to be held whole; raise the memory limit");
  }
  // Sized for the file's largest group when the budget has room for two of them, so that this
  // buffer can serve every later group that crosses a boundary.
  std::size_t capacity = values;
  const std::size_t largest = static_cast<std::size_t>(largest_group_rows_) * nf;
  if (budget.limit_bytes() == 0 || budget.reserved_bytes() + 2 * largest * sizeof(double) <= budget.limit_bytes())
    capacity = std::max(values, largest);
  pend.reservation = runtime::Reservation(budget, capacity * sizeof(double), &job_.cancellation());
  pend.data.reset(new double[capacity]);
  pend.capacity = capacity;
  return pend;
}

void FeatureStream::recycle(Pending&& done) {
  if (done.capacity > spare_.capacity) spare_ = std::move(done);
}

arrow::ArrayPtr FeatureStream::push(const std::vector<ColumnView>& columns, std::int64_t rows) {
  const std::size_t nf = options_.feature_names.size();
  if (columns.size() != nf)
    throw std::invalid_argument("FeatureStream::push: expected " + std::to_string(nf) + " columns, got " +
                                std::to_string(columns.size()));
  const std::int64_t r0 = rows_seen_, r1 = r0 + rows;
  if (r1 > index_.rows) throw std::invalid_argument("FeatureStream::push: more rows than the index holds");
  // The runs these rows touch, in file order: [first, last).
  std::size_t last = run_cursor_;
  while (last < index_.runs.size() && index_.runs[last].row_begin < r1) ++last;
  // 1. The cycles of the groups these rows complete, to size the output columns once.
  std::size_t n = 0;
  std::map<std::int32_t, std::int64_t> filling;  // rows of groups still filling, as of this batch
  for (std::size_t i = run_cursor_; i < last; ++i) {
    const Run& run = index_.runs[i];
    const GroupInfo& g = index_.groups[run.group];
    if (!g.usable()) continue;
    const std::int64_t b = std::max(run.row_begin, r0), e = std::min(run.row_begin + run.rows, r1);
    auto it = filling.find(run.group);
    if (it == filling.end()) {
      const auto p = pending_.find(run.group);
      it = filling.emplace(run.group, p == pending_.end() ? 0 : p->second.filled).first;
    }
    it->second += e - b;
    if (it->second == g.rows) n += static_cast<std::size_t>(kept_[run.group]);
  }
  Output out(n, nf, options_.fail_flags);
  std::size_t row = 0;
  // 2. Walk the runs: a group wholly inside these rows is analysed in place; others are copied,
  // and analysed (their buffer then kept for the next such group) once complete.
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
        analyse_into(run.group, views, out, row);
      } else {
        auto it = pending_.find(run.group);
        Pending& pend = it != pending_.end() ? it->second : start_pending(run.group, nf);
        {
          runtime::ScopedStage timed(*copy_stage_);
          for (std::size_t f = 0; f < nf; ++f) {
            double* dst = pend.data.get() + f * g.rows + pend.filled;
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
          for (std::size_t f = 0; f < nf; ++f) views[f] = {pend.data.get() + f * g.rows, false};
          analyse_into(run.group, views, out, row);
          auto done = pending_.find(run.group);
          recycle(std::move(done->second));
          pending_.erase(done);
        }
      }
    }
    if (run_end > r1) break;  // the run goes on in the next batch
    ++run_cursor_;
  }
  rows_seen_ = r1;
  job_.progress().add(*rows_done_, rows);
  return to_batch(std::move(out));
}

void FeatureStream::analyse_into(std::int32_t group, const std::vector<ColumnView>& views, Output& out,
                                 std::size_t& o) {
  const GroupInfo& g = index_.groups[group];
  std::vector<std::uint8_t> include(g.cycles);
  std::vector<std::int64_t> kept;  // cycles written, in order; the others are in the drop log
  for (std::int64_t c = 0; c < g.cycles; ++c) {
    include[c] = index_.cycles[g.first_cycle + c].reason == DropReason::kNone;
    if (include[c]) kept.push_back(c);
  }
  GroupResult& r = result_;  // reused: its vectors keep their capacity from group to group
  {
    runtime::ScopedStage timed(*analyse_stage_);
    analyse_group(views, g.cycles, g.task, include.data(), options_.spec, plan_, job_, r);
  }
  job_.progress().add(*cycles_done_, g.cycles);
  runtime::ScopedStage timed(*build_stage_);
  const std::size_t nf = options_.feature_names.size(), k = kept.size();
  for (std::size_t i = 0; i < k; ++i) {
    const std::int64_t c = kept[i];
    const CycleInfo& info = index_.cycles[g.first_cycle + c];
    out.subject[o + i] = g.subject;
    out.task[o + i] = g.task;
    out.step[o + i] = info.step;
    out.step_known[o + i] = info.step_known;
    out.cycle[o + i] = static_cast<std::int32_t>(c);
    out.row[o + i] = info.row;
    out.valid[o + i] = r.valid[c];
    out.outlier[o + i] = r.outlier[c];
    out.rmse[o + i] = r.rmse[c];
  }
  // GroupResult holds [stat][feature][cycle]: with every cycle kept, a column is one copy.
  const bool all = static_cast<std::int64_t>(k) == r.cycles;
  for (std::size_t f = 0; f < nf; ++f) {
    for (int s = 0; s < kStatCount; ++s) {
      const double* src = &r.stats[(static_cast<std::size_t>(s) * nf + f) * r.cycles];
      double* dst = out.stats[f * kStatCount + s].data() + o;
      if (all) {
        std::copy(src, src + k, dst);
      } else {
        for (std::size_t i = 0; i < k; ++i) dst[i] = src[kept[i]];
      }
    }
    if (!out.fails.empty())
      for (std::size_t i = 0; i < k; ++i) out.fails[f][o + i] = r.fail[f * r.cycles + kept[i]];
  }
  o += k;
  for (const RangeFailure& rf : r.range_failures)
    failures_.push_back({group, rf.cycle, g.task, rf.check, rf.value});
}

void FeatureStream::finish() {
  if (rows_seen_ != index_.rows || !pending_.empty())
    throw std::runtime_error("FeatureStream: the file ended early: " + std::to_string(rows_seen_) + " of " +
                             std::to_string(index_.rows) + " rows pushed");
  spare_ = Pending{};
}

arrow::ArrayPtr FeatureStream::to_batch(Output&& out) {
  runtime::ScopedStage timed(*build_stage_);
  const std::size_t nf = options_.feature_names.size();
  std::vector<arrow::Field> fields;
  fields.push_back({"subject", arrow::dictionary_utf8(std::move(out.subject), options_.subject_names), false});
  fields.push_back({"task", arrow::dictionary_utf8(std::move(out.task), options_.task_names), false});
  // A cycle without a step value has a null step (identified by cycle, its position).
  fields.push_back({"step", arrow::primitive(std::move(out.step), out.step_known), true});
  fields.push_back({"cycle", arrow::primitive(std::move(out.cycle)), false});
  fields.push_back({"row", arrow::primitive(std::move(out.row)), false});
  fields.push_back({"valid", arrow::boolean(out.valid), false});
  fields.push_back({"is_outlier", arrow::boolean(out.outlier), false});
  fields.push_back({"rmse", arrow::primitive(std::move(out.rmse)), false});
  for (std::size_t f = 0; f < nf; ++f)
    for (int s = 0; s < kStatCount; ++s)
      fields.push_back({options_.feature_names[f] + "__" + stat_name(s),
                        arrow::primitive(std::move(out.stats[f * kStatCount + s])), false});
  for (std::size_t f = 0; f < out.fails.size(); ++f)
    fields.push_back({options_.feature_names[f] + "__fail", arrow::primitive(std::move(out.fails[f])), false});
  return arrow::struct_array(std::move(fields));
}

arrow::ArrayPtr FeatureStream::range_failures() const {
  std::vector<std::int32_t> subject, task, cycle, point;
  std::vector<std::int64_t> step;
  std::vector<std::uint8_t> step_known;
  std::vector<std::string> feature;
  std::vector<double> value, lo, hi;
  for (const Failure& f : failures_) {
    const GroupInfo& g = index_.groups[f.group];
    const RangeCheck& chk = options_.spec.range_checks[f.task][f.check];
    subject.push_back(g.subject);
    task.push_back(g.task);
    step.push_back(index_.cycles[g.first_cycle + f.cycle].step);
    step_known.push_back(index_.cycles[g.first_cycle + f.cycle].step_known);
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
  fields.push_back({"step", arrow::primitive(std::move(step), step_known), true});
  fields.push_back({"cycle", arrow::primitive(std::move(cycle)), false});
  fields.push_back({"variable", arrow::utf8(feature), false});
  fields.push_back({"phase_index", arrow::primitive(std::move(point)), false});
  fields.push_back({"value", arrow::primitive(std::move(value)), false});
  fields.push_back({"min", arrow::primitive(std::move(lo)), false});
  fields.push_back({"max", arrow::primitive(std::move(hi)), false});
  return arrow::struct_array(std::move(fields));
}

}  // namespace cadence::gait
