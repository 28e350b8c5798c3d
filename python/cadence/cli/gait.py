"""``cadence gait``: per-cycle features, validation and a plotted report of a LocoHub file.

Every output is written under a temporary name and renamed when whole (cadence.atomic): an
interrupted or failed command leaves the previous outputs untouched. Output directories are
checked before the work starts. Messages speak CLI (``--phase-col phase``), warnings are one
``cadence: warning:`` line each.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

from .. import _core
from .formatting import HelpFormatter

# The stride segmentation defaults: the engine's (gait.phase.DEFAULTS reads the same; that module
# is imported only when the command runs).
_PHASE = _core.gait_phase_defaults()

#: Drop-log entries printed on stderr; the rest are counted (the full log is in OUT.drops.csv).
SHOWN_DROPS = 5


def register(groups: argparse._SubParsersAction) -> None:
    p = groups.add_parser(
        "gait",
        help="analyse LocoHub phase-indexed gait data",
        description="Per-cycle features, validation and plots of a LocoHub phase-indexed file "
        "(Parquet or CSV, 150 points per gait cycle), on all cores with bounded memory.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    f = sub.add_parser(
        "features", help="per-cycle features of every subject x task", formatter_class=HelpFormatter,
        description="One row per cycle: subject, task, step, cycle, valid, is_outlier, rmse and, per "
        "feature, mean, std, min, max, rom, peak_index, peak_timing, skewness, kurtosis, "
        "dominant_frequency (cycles per stride), rmse. Written as batches arrive, under a temporary "
        "name renamed to OUT when whole. Groups and cycles left out are listed in OUT.drops.csv.",
        epilog="example: cadence gait features data/gait.parquet -o features.parquet --memory-limit 256M")
    _common(f, file_type=_place)
    f.add_argument("-o", "--output", type=_place, required=True,
                   help="OUT.parquet, or OUT.npy for a float32 matrix + OUT.meta.parquet")
    f.add_argument("--outliers-among", choices=["valid", "all"], default="valid",
                   help="judge outliers among valid cycles or among all cycles (LocoHub)")
    f.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="run on a Ray cluster, in units of whole subject x task groups (ADDRESS such as "
                   "10.0.0.1:6379 or auto; none: $RAY_ADDRESS, else a cluster on this machine); FILE must "
                   "be seen by every node, or be a URI (s3://, gs://, hdfs://, file://; OUT too). Needs: "
                   "pip install 'cadence[ray]'")
    f.add_argument("--unit-rows", type=int, metavar="N", help="with --ray: rows per work unit (default: 600000)")
    f.set_defaults(run=_run_features)

    v = sub.add_parser(
        "validate", help="LocoHub's rules and per-phase ranges: pass rates, failing strides",
        formatter_class=HelpFormatter,
        description="Check every stride with LocoHub's fixed rules and, with --ranges, a per-task, "
        "per-phase ranges YAML (LocoHub's validator format). Prints pass rates per task and "
        "variable and lists the failing strides. Exit status 1 when a stride fails, 0 when all pass.",
        epilog="example: cadence gait validate data/gait.parquet --ranges ranges.yaml")
    _common(v)
    v.add_argument("--ranges", type=_ranges_path, metavar="YAML",
                   help="ranges YAML: tasks -> <task> -> phases -> <pct> -> <var> -> {min, max}; 'example': "
                   "the example shipped with cadence (level walking, a few hip and knee angles)")
    v.add_argument("--list", type=int, default=20, metavar="N", help="failing strides to list (--csv writes all)")
    v.add_argument("--csv", type=Path, help="write every failing stride to this CSV")
    v.add_argument("--json", action="store_true",
                   help="print the summary as JSON (strides, valid, pass rates, failures, first N failing strides)")
    v.set_defaults(run=_run_validate)

    r = sub.add_parser(
        "report", help="PNG plots (mean +- SD per task and variable, invalid cycles marked) and outlier list",
        formatter_class=HelpFormatter,
        description="Write DIR/<task>.<page>.png, one page per kind of variable (angles, velocities, "
        "moments, powers, grf: GRF and COP; at most 16 panels a page), per variable: mean +- SD of the "
        "valid cycles, invalid cycles in red where that variable failed (NaN stretches marked), "
        "outliers dashed, y limits showing every cycle but far-out spikes (cut, counted, their value "
        "given), DIR/outliers.csv, DIR/invalid.csv (cycle x variable x rules broken) and "
        "DIR/summary.txt. The files appear together when all are written.",
        epilog="example: cadence gait report data/gait.parquet -o report/")
    _common(r)
    r.add_argument("-o", "--output", type=Path, required=True, help="output directory (created)")
    r.add_argument("--max-invalid", type=int, default=40, metavar="N",
                   help="invalid (and outlier) cycles drawn per task")
    r.set_defaults(run=_run_report)

    ph = sub.add_parser(
        "phase", help="time-indexed recording -> LocoHub phase-indexed file (150 points per stride)",
        formatter_class=HelpFormatter,
        description="Find heel strikes (rising crossing of the vertical GRF, LocoHub's segmentation "
        "defaults, or an --events column), keep strides as LocoHub's converters do (duration limits, "
        "first 2 and last stride of each trial dropped, 1.5 x IQR duration outliers), interpolate each "
        "to 150 points with both ends (NaN-aware) and write LocoHub's layout (step numbered per "
        "subject x task). Every stride left out is listed in OUT.drops.csv with its reason.",
        epilog="example: cadence gait phase data/walk_time.parquet data/walk_phase.parquet")
    ph.add_argument("input", type=Path, help="time-indexed .parquet or .csv (subject, task, time_s, variables); "
                    "try: cadence sample gait --time-indexed walk_time.parquet")
    ph.add_argument("output", type=Path, help="phase-indexed OUT.parquet or OUT.csv (the format follows the "
                    "suffix); OUT.drops.csv beside it")
    ph.add_argument("--grf", help="vertical GRF column (default: grf_vertical_ipsi_BW, else _N)")
    ph.add_argument("--events", metavar="COLUMN", help="heel strikes from this column (nonzero = strike) instead")
    ph.add_argument("--threshold", type=float, help=f"force threshold in the column's unit (default: "
                    f"{_PHASE['threshold']:g} N, {_PHASE['threshold_bw']:g} BW)")
    # Defaults are shown once, by the formatter; --stride-s says its pair itself (a tuple's repr otherwise).
    ph.add_argument("--smooth", type=int, default=_PHASE["smooth_samples"], metavar="N", help="moving-average samples")
    ph.add_argument("--min-gap", type=float, default=_PHASE["min_contact_gap_s"], metavar="S",
                    help="least time between contacts, seconds")
    ph.add_argument("--stride-s", type=float, nargs=2, metavar=("MIN", "MAX"),
                    help=f"stride duration limits, seconds (default: {_PHASE['min_stride_s']:g} {_PHASE['max_stride_s']:g})")
    ph.add_argument("--drop-first", type=int, default=_PHASE["drop_first"], metavar="N",
                    help="strides dropped at a trial's start")
    ph.add_argument("--drop-last", type=int, default=_PHASE["drop_last"], metavar="N", help="strides dropped at a trial's end")
    ph.add_argument("--iqr", type=float, default=_PHASE["iqr_factor"], metavar="K",
                    help="duration outliers beyond K x IQR (0: off)")
    ph.add_argument("--jobs", type=int, default=0, help="worker threads (0: all cores)")
    ph.add_argument("--json", action="store_true", help="print the summary as JSON")
    ph.add_argument("-q", "--quiet", action="store_true", help="no progress output and no warnings")
    ph.set_defaults(run=_run_phase)

    cp = sub.add_parser(
        "compare", help="where in the cycle two tasks differ: SPM t tests of every feature (spm1d's)",
        formatter_class=HelpFormatter,
        description="Statistical parametric mapping of whole curves (spm1d 0.4.55's tests and numbers): "
        "each subject's mean curve per task is one observation; --paired pairs them by subject "
        "(ttest_paired), otherwise ttest2 with pooled variance; two-tailed, random field theory "
        "threshold, or label permutations with --nonparametric. Writes OUT/spm.parquet and "
        "OUT/spm.csv (one row per cluster: feature, start, end and extent in % of the cycle, p, sign), "
        "OUT/<feature>.png (mean +- SD of both tasks above, SPM{t} with the threshold and the "
        "clusters below) and OUT/overview.png; the files appear together when all are written.",
        epilog="example: cadence gait compare data/gait.parquet --tasks level_walking incline_walking "
        "--paired -o compare/")
    _common(cp)
    cp.add_argument("--tasks", nargs=2, required=True, metavar=("A", "B"), help="the two tasks (t = A - B)")
    cp.add_argument("--paired", action="store_true", help="pair the subjects' curves by subject name")
    cp.add_argument("--nonparametric", action="store_true", help="permutation inference instead of RFT")
    cp.add_argument("--iterations", type=int, default=-1, metavar="N",
                    help="with --nonparametric: N random permutations (-1: every one, at most 10000)")
    cp.add_argument("--alpha", type=float, default=0.05, help="Type I error rate")
    cp.add_argument("--seed", type=int, default=0, help="random permutations' seed")
    cp.add_argument("--no-figures", action="store_true", help="write the tables only")
    cp.add_argument("-o", "--output", type=Path, required=True, help="output directory (created)")
    cp.set_defaults(run=_run_compare)

    c = sub.add_parser("cache", help="inspect or empty a --cache directory", formatter_class=HelpFormatter,
                       description="A --cache directory holds decoded feature columns (memory-mapped Arrow "
                       "files) and analysis results, keyed by the input file's identity and the engine "
                       "version. 'info' lists entries and bytes per function; 'clear' removes them all.",
                       epilog="example: cadence gait cache info .cadence-cache")
    c.add_argument("action", choices=["info", "clear"])
    c.add_argument("dir", type=Path, help="the cache directory")
    c.add_argument("--json", action="store_true", help="print info as JSON")
    c.set_defaults(run=_run_cache)


def _ranges_path(text: str) -> Path:
    """--ranges FILE, or 'example': the ranges shipped inside the package, found from any
    directory (a file of that name in the current directory: ./example)."""
    if text == "example":
        from ..gait.validation import EXAMPLE_RANGES

        return EXAMPLE_RANGES
    return Path(text)


def _place(text: str) -> str | Path:
    """A path, or a URI kept as text (s3://bucket/x: a Path would fold its //)."""
    from ..cluster import is_uri

    return text if is_uri(text) else Path(text)


def _common(p: argparse.ArgumentParser, file_type=Path) -> None:
    p.add_argument("file", type=file_type, help="phase-indexed .parquet or .csv")
    p.add_argument("--features", help="comma-separated feature columns (default: every angle, "
                   "velocity, moment, power, grf_* and cop_* column)")
    p.add_argument("--nan-policy", choices=["propagate", "omit"], default="propagate",
                   help="NaN handling: numpy's, or skip NaN values")
    p.add_argument("--memory-limit", default="auto", metavar="SIZE",
                   help="bytes held at once, e.g. 512M ('auto': half of RAM)")
    p.add_argument("--jobs", type=int, default=0, help="worker threads (0: all cores)")
    p.add_argument("--subject-col", default="subject", help="subject column")
    p.add_argument("--task-col", default="task", help="task column")
    p.add_argument("--phase-col", help="phase column (default: the first of phase_ipsi, phase, "
                   "phase_percent in the file, as LocoHub looks for it)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, notes or warnings on stderr (errors only)")
    p.add_argument("--cache", type=Path, metavar="DIR",
                   help="keep decoded columns and results in DIR: a second run reads no Parquet "
                   "(see `cadence gait cache`)")
    p.add_argument("--monitor", action="store_true",
                   help="sample CPU, memory, budget and progress into a report.json and a PNG beside it")


def _cli_option(role: str, value: str) -> str:
    """How the CLI spells a LocomotionData column argument: phase_col -> --phase-col."""
    return f"--{role.replace('_', '-')} {value}"


@contextlib.contextmanager
def _warnings_as_lines(quiet: bool = False):
    """Warnings of the whole command (from worker threads too) as one ``cadence: warning:``
    line each, instead of Python's "file:line: UserWarning" and the source line; null values
    (said by each pass that meets them) as one line for the run, naming every column once.
    ``quiet`` (-q): none at all; a warning is never an error, errors still print."""
    from ..gait.reader import NullValuesWarning

    nulls: dict[str, None] = {}

    def show(message, category, filename, lineno, file=None, line=None):
        if isinstance(message, NullValuesWarning):
            nulls.update(dict.fromkeys(message.columns))
        else:
            print(f"cadence: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore" if quiet else "default")
        warnings.showwarning = show
        try:
            yield
        finally:
            if nulls:
                print(f"cadence: warning: {NullValuesWarning(nulls)}", file=sys.stderr)


def _check_options(args: argparse.Namespace) -> None:
    """Numbers and sizes checked before anything is read or created."""
    from . import CliError
    from ..runtime import parse_bytes

    if getattr(args, "memory_limit", "auto") != "auto":  # gait phase has none
        try:
            parse_bytes(args.memory_limit)
        except ValueError as e:
            raise CliError(f"--memory-limit: {e}") from None
    if args.jobs < 0:
        raise CliError(f"--jobs {args.jobs}: give 0 (all cores) or a number of threads")
    for name in ("list", "max_invalid"):
        if getattr(args, name, 0) < 0:
            raise CliError(f"--{name.replace('_', '-')} {getattr(args, name)}: give 0 or more")


def _open(args: argparse.Namespace):
    from . import CliError
    from ..gait import LocomotionData
    from ..gait.reader import LayoutError

    if args.file.is_dir():
        raise CliError(f"{args.file} is a directory; give a phase-indexed gait file (.parquet or .csv, 150 points "
                       f"per cycle), e.g. one written by `cadence sample gait` or `cadence gait phase`")
    if not args.file.is_file():
        raise CliError(f"{args.file}: no such file; check the path")
    _check_content(args.file)
    phase_col = args.phase_col or _find_phase_col(args)
    try:
        loco = LocomotionData(args.file, args.subject_col, args.task_col, phase_col,
                              memory_limit=args.memory_limit, jobs=args.jobs, nan_policy=args.nan_policy,
                              strict_names=False, verbose=False, cache=args.cache)
    except LayoutError as e:
        raise CliError(e.message(_cli_option)) from None
    except FileNotFoundError as e:
        raise CliError(f"{args.file}: no such file; check the path") from e
    names = loco.features if not args.features else [s.strip() for s in args.features.split(",") if s.strip()]
    # A feature may live in a column of an older name (vertical_grf_* for grf_vertical_*).
    unknown = [n for n in names if loco.column_of(n) not in loco.gait_file.columns]
    if unknown:
        import difflib

        hints = {n: difflib.get_close_matches(n, loco.features, n=1) for n in unknown}
        said = ", ".join(f"{n!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for n, h in hints.items())
        raise CliError(f"{args.file}: no feature column {said}; --features takes names from the file's "
                       f"{len(loco.features)} feature columns, e.g. {', '.join(loco.features[:3])}")
    if not names:
        raise CliError(f"{args.file}: no feature columns (LocoHub counts numeric columns named like its "
                       f"variables, e.g. knee_flexion_angle_ipsi_rad)")
    if not args.quiet:
        _print_drops(loco.drop_log)
    return loco, names


def _check_content(path: Path) -> None:
    """The file holds what its name says (a Parquet file named .csv is refused with what to do,
    not with pyarrow's quote of its bytes and a Python argument the CLI has no option for)."""
    from . import CliError
    from ..gait.loading import content_mismatch, file_type_of

    try:
        kind = file_type_of(path, "auto")  # another suffix: whichever reader accepts it
    except ValueError:
        raise CliError(f"{path}: neither Parquet nor CSV that cadence can read; give a .parquet or .csv "
                       f"file") from None
    said = content_mismatch(path, kind)
    if said is not None:
        raise CliError(said)


def _find_phase_col(args: argparse.Namespace) -> str:
    """LocoHub's search for the phase column, with a CLI message when there is none."""
    from . import CliError
    from ..gait.loading import PHASE_COLUMNS, file_type_of, peek_columns

    columns = peek_columns(args.file, file_type_of(args.file, "auto"))
    found = next((c for c in PHASE_COLUMNS if c in columns), None)
    if found or "time_s" in columns or args.subject_col not in columns or args.task_col not in columns:
        return found or PHASE_COLUMNS[0]  # the layout check names what is wrong (time-indexed, missing)
    near = [c for c in columns if "phase" in c.lower()]
    fix = f"if it is {near[0]!r}, add --phase-col {near[0]}" if near else "name it with --phase-col <column>"
    raise CliError(f"{args.file}: no phase column (looked for {', '.join(PHASE_COLUMNS)}); {fix}. "
                   f"The file has {len(columns)} columns.")


def _print_drops(drops) -> None:
    if not len(drops):
        return
    for row in drops.head(SHOWN_DROPS).itertuples():
        step = "" if row.step is None or row.step != row.step else f" step {int(row.step)}"
        print(f"cadence: dropped {row.subject} / {row.task}{step} (rows {row.first_row:,}.."
              f"{row.first_row + row.rows - 1:,}): {row.reason}; {row.detail}", file=sys.stderr)
    if len(drops) > SHOWN_DROPS:
        counts = ", ".join(f"{r} {n}" for r, n in Counter(drops["reason"]).most_common())
        print(f"cadence: ... {len(drops) - SHOWN_DROPS} more dropped ({len(drops)} in all: {counts})",
              file=sys.stderr)


def _run(body):
    """Options checked first; warnings as lines (none with -q)."""
    def run(args: argparse.Namespace) -> int:
        _check_options(args)
        with _warnings_as_lines(args.quiet):
            return body(args)
    return run


@_run
def _run_phase(args: argparse.Namespace) -> int:
    from ..lock import output_lock

    with output_lock(args.output, kind="file"):  # one writer per output (lock.py)
        return _phase(args)


def _phase(args: argparse.Namespace) -> int:
    from ..gait.phase import to_phase

    lo, hi = args.stride_s or (_PHASE["min_stride_s"], _PHASE["max_stride_s"])
    s = to_phase(args.input, args.output, grf=args.grf, events=args.events, threshold=args.threshold,
                 smooth_samples=args.smooth, min_contact_gap_s=args.min_gap, min_stride_s=lo,
                 max_stride_s=hi, drop_first=args.drop_first, drop_last=args.drop_last,
                 iqr_factor=args.iqr, jobs=args.jobs, show_progress=_progress(args))
    if args.json:
        print(json.dumps(s, indent=1))
        return 0
    dropped = ", ".join(f"{k} {v}" for k, v in sorted(s["strides_dropped"].items())) or "none"
    print(f"{s['output']}: {s['trials']} trials, {s['heel_strikes']} heel strikes (from {s['heel_strikes_from']}), "
          f"{s['strides_kept']} strides kept of {s['strides']}, {s['rows']:,} rows\n"
          f"  dropped  {dropped}\n  drops    {s['drops']}")
    return 0


@_run
def _run_compare(args: argparse.Namespace) -> int:
    from . import CliError
    from ..atomic import check_writable

    if not 0.0 < args.alpha < 1.0:
        raise CliError(f"--alpha {args.alpha}: give a Type I error rate between 0 and 1")
    from ..lock import output_lock

    out: Path = args.output
    created = not out.exists()
    try:
        with output_lock(out):  # one writer per OUT (lock.py)
            check_writable(out)
            return _compare(args, out)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed first run leaves no empty directory behind
        raise


def _compare(args: argparse.Namespace, out: Path) -> int:
    from . import CliError
    from ..atomic import atomic_files
    from ..gait.compare import compare_tasks
    from ..gait.spm.nonparam import PermutationLimitError

    loco, names = _open(args)
    try:
        c = compare_tasks(loco, args.tasks[0], args.tasks[1], names, paired=args.paired, alpha=args.alpha,
                          nonparametric=args.nonparametric, iterations=args.iterations, seed=args.seed,
                          jobs=args.jobs)
    except PermutationLimitError as e:
        raise CliError(f"{args.file}: {e}".replace("give iterations=N", "give --iterations N")
                       .replace("force_iterations=True to run them all", "a smaller number")) from None
    figures = [] if args.no_figures else [n for n in names if n not in c.skipped]
    with atomic_files() as files:
        c.table.to_parquet(files.path(out / "spm.parquet"), index=False)
        c.table.to_csv(files.path(out / "spm.csv"), index=False)
        if figures:
            from ..gait.compare_plots import feature_figure, overview_figure

            for i, name in enumerate(names):
                if name not in c.skipped:
                    feature_figure(c, i, files.path(out / f"{name}.png"))
            overview_figure(c, files.path(out / "overview.png"))
    differ = c.table["feature"].nunique()
    print(f"{c.test} {c.task_a} vs {c.task_b} ({len(c.subjects_a)} and {len(c.subjects_b)} subjects, alpha "
          f"{c.alpha:g}): {differ} of {len(names) - len(c.skipped)} features tested differ, {len(c.table)} "
          f"cluster(s){f'; {len(c.skipped)} not tested (zero variance)' if c.skipped else ''}")
    print(f"wrote spm.parquet, spm.csv{f' and {len(figures) + 1} figures' if figures else ''} to {out}")
    return 0


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.quiet else None


def _monitored(args: argparse.Namespace, report: Path):
    from ..monitor import MonitoredRun

    return MonitoredRun(report if args.monitor else None)


def _note_cache(args: argparse.Namespace, loco, mon) -> None:
    """Cache counters: into the monitor's report, and one stderr line."""
    if loco.cache is None:
        return
    stats = loco.cache.stats()
    mon.extra["cache"] = stats
    if not args.quiet:
        print(f"cadence: cache {stats['directory']}: {stats['hits']} hit(s), {stats['misses']} miss(es), "
              f"{stats['bytes_read'] / 2**20:.1f} MiB read, {stats['bytes_written'] / 2**20:.1f} MiB written",
              file=sys.stderr)


def _run_cache(args: argparse.Namespace) -> int:
    from . import CliError
    from ..gait.cache import LocomotionDataCache

    if not (args.dir / "entries").is_dir():
        raise CliError(f"{args.dir}: not a cache directory (no entries/ in it); give the DIR passed to --cache")
    cache = LocomotionDataCache(args.dir)
    if args.action == "clear":
        print(f"removed {cache.clear()} entries from {args.dir}")
        return 0
    info = cache.info()
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    # The limit recorded in the directory (set in Python with max_cache_size=), else the default.
    limit = f"limit {info['max_bytes'] / 2**20:.1f} MiB" + ("" if info["limit_recorded"] else ", the default")
    print(f"{info['directory']}: {info['entries']} entries, {info['bytes'] / 2**20:.1f} MiB ({limit})")
    for name, f in sorted(info["functions"].items()):
        print(f"  {name:40s} {f['entries']:5d} entries {f['bytes'] / 2**20:9.1f} MiB")
    return 0


@_run
def _run_features(args: argparse.Namespace) -> int:
    from ..lock import output_lock

    with output_lock(args.output, kind="file"):  # OUT and its companions: one writer (lock.py)
        return _features(args)


def _features(args: argparse.Namespace) -> int:
    from . import CliError
    from ..cluster import is_uri

    if not (is_uri(args.file) or is_uri(args.output)):
        return _write_features(args)
    uri = args.file if is_uri(args.file) else args.output
    if args.ray is None:
        raise CliError(f"{uri}: FILE or OUT as a URI goes with --ray, whose tasks read it; a local run takes "
                       f"local paths")
    if args.monitor and is_uri(args.output):
        raise CliError("--monitor writes beside a local OUT; drop it for an OUT given as a URI")
    if args.cache is not None and is_uri(args.file):
        raise CliError("--cache keys on a local FILE (its path and time); drop it for a FILE given as a URI")
    if Path(str(args.output).partition("?")[0]).suffix.lower() not in (".parquet", ".npy"):
        raise CliError(f"{args.output}: the output must end in .parquet or .npy")
    from ..gait import ray_executor

    with ray_executor.staged_input(args.file) as file, \
            ray_executor.staged_output(args.output, companions=(".drops.csv",)) as out:
        local = copy.copy(args)
        local.file, local.output = Path(file), Path(out)
        shown = str(args.output).partition("?")[0].rpartition("/")[0] if is_uri(args.output) else None
        return _write_features(local, (lambda p: f"{shown}/{p.name}") if shown else str)


def _write_features(args: argparse.Namespace, shown=str) -> int:
    """gait features into args.output; ``shown`` names a path written in what is printed."""
    from . import CliError
    from ..atomic import atomic_files, check_writable
    from ..gait.outputs import companion

    out: Path = args.output
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".npy"):
        raise CliError(f"{out}: the output must end in .parquet or .npy")
    if out.is_dir():
        raise CliError(f"{out} is a directory; give a file name ending in .parquet or .npy")
    check_writable(out.parent)
    drops_path = companion(out, ".drops.csv")
    with _monitored(args, companion(out, ".report.json")) as mon:
        loco, names = _open(args)
        if loco.cache is not None:
            loco.feature_table()  # the memory-mapped columns: a warm run decodes no Parquet
        # OUT (and OUT.meta.parquet) appear together when whole (cycle_features' sink); the drop
        # log follows, or an earlier run's is removed.
        loco.cycle_features(names, output=suffix[1:], path=out, outliers_among=args.outliers_among,
                            memory_limit=args.memory_limit, show_progress=_progress(args), **_cluster(args))
        _note_cache(args, loco, mon)
    run = loco.last_run
    drops = loco.drop_log
    with atomic_files() as files:
        if len(drops):
            drops.to_csv(files.path(drops_path), index=False)
        else:
            files.discard(drops_path)
    extra = f" and {shown(companion(out, '.meta.parquet'))}" if suffix == ".npy" else ""
    print(f"wrote {run.cycles:,} cycles x {len(names)} features to {shown(out)}{extra}; "
          f"{len(drops)} group(s)/cycle(s) dropped"
          + (f" (see {shown(drops_path)})" if len(drops) else "")
          + f"; peak engine memory {run.peak_reserved_bytes / 2**20:.0f} MiB")
    return 0


def _cluster(args: argparse.Namespace) -> dict:
    """cycle_features' executor arguments from --ray [ADDRESS] and --unit-rows; Ray checked here."""
    from . import CliError
    from ..cluster import RayMissing, import_ray

    if args.unit_rows is not None and args.ray is None:
        raise CliError("--unit-rows goes with --ray (the work units of a cluster run)")
    if args.ray is None:
        return {}
    try:
        import_ray()
    except RayMissing as e:
        raise CliError(str(e)) from None
    return {"executor": "ray", "ray_address": args.ray or None, "unit_rows": args.unit_rows}


@_run
def _run_validate(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from ..lock import output_lock

    with output_lock(args.csv, kind="file") if args.csv else nullcontext():  # --csv: one writer (lock.py)
        return _validate(args)


def _validate(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..atomic import atomic_path, check_writable
    from ..gait.outputs import companion
    from ..gait.validation import load_ranges

    ranges = load_ranges(args.ranges) if args.ranges else None  # a bad file fails before the pass
    if args.csv:
        if args.csv.is_dir():
            from . import CliError
            raise CliError(f"--csv {args.csv} is a directory; give a file name")
        check_writable(args.csv.parent)
    monitor_path = companion(args.csv, ".report.json") if args.csv else Path("gait-validate.report.json")
    with _monitored(args, monitor_path) as mon:
        loco, names = _open(args)
        report = loco.validate_ranges(ranges, names, show_progress=_progress(args))
        _note_cache(args, loco, mon)
    hub, rng = report.locohub_failures, report.range_failures
    if args.csv:
        both = pd.concat([hub.assign(kind="locohub"), rng.assign(kind="ranges")], ignore_index=True)
        with atomic_path(args.csv) as tmp:
            both.to_csv(tmp, index=False)
    if args.json:
        print(json.dumps(report.as_dict(args.file, args.ranges, args.list, args.csv), indent=1,
                         default=_json_default))
    else:
        print(report.format_report(args.ranges, args.list, args.csv))
        if args.csv:
            print(f"\nwrote {len(hub) + len(rng)} failures to {args.csv}")
    return 1 if report.failing_strides else 0


def _json_default(value):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@_run
def _run_report(args: argparse.Namespace) -> int:
    from ..atomic import check_writable
    from ..lock import output_lock

    out: Path = args.output
    created = not out.exists()
    try:
        with output_lock(out):  # one writer per OUT (lock.py)
            check_writable(out)
            with _monitored(args, out / "report.json") as mon:
                return _report(args, out, mon)
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a failed first run leaves no empty directory behind
        raise


def _report(args: argparse.Namespace, out: Path, mon) -> int:
    from ..gait.report import write_report

    loco, names = _open(args)
    summary = write_report(loco, names, out, file_label=args.file, memory_limit=args.memory_limit,
                           max_invalid=args.max_invalid, jobs=args.jobs, show_progress=_progress(args))
    print(summary.text)
    print(f"wrote {len(summary.plots)} plots, outliers.csv, invalid.csv and summary.txt to {out}")
    _note_cache(args, loco, mon)
    return 0
