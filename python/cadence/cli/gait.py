"""``cadence gait``: per-cycle features, validation and a plotted report of a LocoHub file."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np


def register(groups: argparse._SubParsersAction) -> None:
    p = groups.add_parser(
        "gait",
        help="analyse LocoHub phase-indexed gait data",
        description="Per-cycle features, validation and plots of a LocoHub phase-indexed file "
        "(Parquet or CSV, 150 points per gait cycle), on all cores with bounded memory.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    f = sub.add_parser(
        "features", help="per-cycle features of every subject x task",
        description="One row per cycle: subject, task, step, cycle, valid, is_outlier, rmse and, per "
        "feature, mean, std, min, max, rom, peak_index, peak_timing, skewness, kurtosis, "
        "dominant_frequency (cycles per stride), rmse. Written as batches arrive.",
        epilog="example: cadence gait features data/gait.parquet -o features.parquet --memory-limit 256M")
    _common(f)
    f.add_argument("-o", "--output", type=Path, required=True,
                   help="OUT.parquet, or OUT.npy for a float32 matrix + OUT.meta.parquet")
    f.add_argument("--outliers-among", choices=["valid", "all"], default="valid",
                   help="judge outliers among valid cycles (default) or all cycles (LocoHub)")
    f.set_defaults(run=_run_features)

    v = sub.add_parser(
        "validate", help="LocoHub's rules and per-phase ranges: pass rates, failing strides",
        description="Check every stride with LocoHub's fixed rules and, with --ranges, a per-task, "
        "per-phase ranges YAML (LocoHub's validator format). Prints pass rates per task and "
        "variable and lists the failing strides.",
        epilog="example: cadence gait validate data/gait.parquet --ranges ranges.yaml")
    _common(v)
    v.add_argument("--ranges", type=Path, help="ranges YAML: tasks -> <task> -> phases -> <pct> -> <var> -> {min, max}")
    v.add_argument("--list", type=int, default=20, metavar="N", help="failing strides to list (default 20)")
    v.add_argument("--csv", type=Path, help="write every failing stride to this CSV")
    v.set_defaults(run=_run_validate)

    r = sub.add_parser(
        "report", help="PNG plots (mean +- SD per task and variable, invalid cycles marked) and outlier list",
        description="Write DIR/<task>.png (mean +- SD of valid cycles per variable, invalid cycles in "
        "red), DIR/outliers.csv, DIR/invalid.csv and DIR/summary.txt.",
        epilog="example: cadence gait report data/gait.parquet -o report/")
    _common(r)
    r.add_argument("-o", "--output", type=Path, required=True, help="output directory (created)")
    r.add_argument("--max-invalid", type=int, default=40, metavar="N", help="invalid cycles drawn per task")
    r.set_defaults(run=_run_report)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="phase-indexed .parquet or .csv")
    p.add_argument("--features", help="comma-separated feature columns (default: every angle, "
                   "velocity, moment and power column)")
    p.add_argument("--nan-policy", choices=["propagate", "omit"], default="propagate",
                   help="NaN handling: numpy's (default) or skip NaN values")
    p.add_argument("--memory-limit", default="auto", metavar="SIZE", help="bytes held at once, e.g. 512M (default: half of RAM)")
    p.add_argument("--jobs", type=int, default=0, help="worker threads (default: all cores)")
    p.add_argument("--subject-col", default="subject")
    p.add_argument("--task-col", default="task")
    p.add_argument("--phase-col", default="phase_ipsi")


def _open(args: argparse.Namespace):
    from . import CliError
    from ..gait import LocomotionData

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loco = LocomotionData(args.file, args.subject_col, args.task_col, args.phase_col,
                                  memory_limit=args.memory_limit, jobs=args.jobs, nan_policy=args.nan_policy)
    except (FileNotFoundError, ValueError) as e:
        raise CliError(str(e)) from None
    for w in caught:
        print(f"cadence: warning: {w.message}", file=sys.stderr)
    names = loco.features if not args.features else [s.strip() for s in args.features.split(",") if s.strip()]
    unknown = [n for n in names if n not in loco._file.columns]
    if unknown:
        raise CliError(f"unknown feature column(s) {unknown}; features in {args.file}: {loco.features}")
    if not names:
        raise CliError(f"{args.file}: no feature columns (names containing angle, velocity, moment or power)")
    drops = loco.drop_log
    for row in drops.itertuples():
        where = f"{row.subject} / {row.task}" + ("" if row.step is None or row.step != row.step else f" step {int(row.step)}")
        print(f"cadence: dropped {where} (rows {row.first_row}..{row.first_row + row.rows - 1}): {row.reason}; "
              f"{row.detail}", file=sys.stderr)
    return loco, names


def _run_features(args: argparse.Namespace) -> int:
    from . import CliError

    loco, names = _open(args)
    suffix = args.output.suffix.lower()
    if suffix not in (".parquet", ".npy"):
        raise CliError(f"{args.output}: the output must end in .parquet or .npy")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    loco.cycle_features(names, output=suffix[1:], path=args.output, outliers_among=args.outliers_among,
                        memory_limit=args.memory_limit)
    run = loco.last_run
    drops = loco.drop_log
    if len(drops):
        drops.to_csv(args.output.with_suffix(".drops.csv"), index=False)
    extra = f" and {args.output.with_suffix('.meta.parquet')}" if suffix == ".npy" else ""
    print(f"wrote {run.cycles:,} cycles x {len(names)} features to {args.output}{extra}; "
          f"{len(drops)} group(s)/cycle(s) dropped"
          + (f" (see {args.output.with_suffix('.drops.csv')})" if len(drops) else "")
          + f"; peak engine memory {run.peak_reserved_bytes / 2**20:.0f} MiB")
    return 0


def _run_validate(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import CliError

    loco, names = _open(args)
    try:
        report = loco.validate_ranges(args.ranges, names) if args.ranges else loco.validate_ranges(None, names)
    except (OSError, ValueError) as e:
        raise CliError(str(e)) from None
    print(f"{report.strides:,} strides, {report.valid:,} pass LocoHub's rules "
          f"({report.valid / max(report.strides, 1):.1%})")
    for rule, title in (("locohub", "LocoHub rules"), ("ranges", f"ranges from {args.ranges}")):
        rates = report.pass_rates[report.pass_rates["rule"] == rule]
        if rates.empty:
            continue
        print(f"\npass rate per task and variable, {title} (variables at 100% not shown):")
        table = rates.pivot(index="variable", columns="task", values="pass_rate")
        shown = table[(table < 1.0).any(axis=1)]
        if shown.empty:
            print("  every variable passes in every task")
        else:
            print(shown.map(lambda x: "" if x != x else f"{x:.1%}").to_string())
    if report.missing_variables:
        print(f"\nranges name variables this file does not have: {report.missing_variables}")
    if report.tasks_without_ranges:
        print(f"tasks with no ranges: {report.tasks_without_ranges}")
    hub = report.locohub_failures
    rng = report.range_failures
    if len(hub):
        print(f"\nfailing strides, LocoHub rules ({len(hub)} stride x variable):")
        print(hub.head(args.list).to_string(index=False))
    if len(rng):
        print(f"\nfailing strides, ranges ({len(rng)} checks):")
        print(rng.head(args.list).to_string(index=False))
    if args.csv:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        both = pd.concat([hub.assign(kind="locohub"), rng.assign(kind="ranges")], ignore_index=True)
        both.to_csv(args.csv, index=False)
        print(f"\nwrote {len(both)} failures to {args.csv}")
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from ..gait.plots import TaskSummaryFigure
    from ..gait.reader import POINTS_PER_CYCLE

    loco, names = _open(args)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    # One read of the file: the feature columns are loaded once when they fit the memory limit,
    # and both the per-cycle features and the per-subject cycles below come from them.
    loco._feature_table()
    table = loco.cycle_features(names, output="pandas", memory_limit=args.memory_limit)
    outliers = table.loc[table["is_outlier"], ["subject", "task", "step", "cycle", "rmse"]]
    outliers.to_csv(out / "outliers.csv", index=False)
    invalid = table.loc[~table["valid"], ["subject", "task", "step", "cycle"]]
    invalid.to_csv(out / "invalid.csv", index=False)
    written = []
    usable = loco._index.groups
    figure = None
    try:
        for task in loco.tasks:
            nf = len(names)
            s, sq = np.zeros((nf, POINTS_PER_CYCLE)), np.zeros((nf, POINTS_PER_CYCLE))
            n_valid, bad = 0, {name: [] for name in names}
            for subject in loco.subjects:
                g = loco._index.group(subject, task)
                if g is None or usable["reason"][g] != 0:
                    continue
                data, _ = loco.get_cycles(subject, task, names)
                ok = loco.validate_cycles(subject, task, names)
                x = np.asarray(data[ok], dtype=np.float64).transpose(2, 0, 1)  # (features, cycles, 150)
                with np.errstate(invalid="ignore"):
                    s += np.nansum(x, axis=1)
                    sq += np.nansum(x * x, axis=1)
                n_valid += int(ok.sum())
                for c in np.flatnonzero(~ok)[: max(0, args.max_invalid - len(bad[names[0]]))]:
                    for i, name in enumerate(names):
                        bad[name].append(np.asarray(data[c, :, i], dtype=np.float64))
            if n_valid == 0 and not bad[names[0]]:
                continue
            figure = figure or TaskSummaryFigure(names)  # made once, redrawn per task
            written.append(figure.save(task, s, sq, n_valid, bad, out / f"{task}.png"))
    finally:
        if figure is not None:
            figure.close()
    lines = [f"file        {args.file}", f"cycles      {len(table):,}", f"valid       {int(table['valid'].sum()):,}",
             f"outliers    {len(outliers):,} (listed in outliers.csv)",
             f"invalid     {len(invalid):,} (listed in invalid.csv)",
             f"dropped     {len(loco.drop_log)} group(s)/cycle(s)", f"plots       {len(written)}"]
    (out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {len(written)} plots, outliers.csv, invalid.csv and summary.txt to {out}")
    return 0
