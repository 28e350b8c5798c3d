"""``cadence sample``: generate and summarise the bundled sample datasets."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from .. import summary
from ..drums.corpus import is_zip
from ..atomic import TEMP_MARK, check_writable, replace_dir, temp_name
from ..runtime import Progress
from ..sample import drums, gait, layouts


def register(groups: argparse._SubParsersAction) -> None:
    p = groups.add_parser(
        "sample",
        help="generate or summarise sample data",
        description="Deterministic sample data for demos, tests and benchmarks: an E-GMD-shaped "
        "drum corpus rendered from GM soundfont drum kits, and a LocoHub-standard gait Parquet.",
    )
    sub = p.add_subparsers(dest="command", metavar="KIND", required=True)

    d = sub.add_parser(
        "drums",
        help="a drum corpus: E-GMD-shaped, or laid out as another dataset (--layout)",
        description="Write an E-GMD-shaped corpus: drummerN/sessionM/*.midi + .wav (44.1 kHz, "
        "16-bit mono) and e-gmd-v1.0.0.csv. Each performance is rendered through several kits "
        "with TinySoundFont (in the engine) and pretty_midi's GM soundfont (`pip install "
        "'cadence[sample]'`). With --layout, a few tracks laid out exactly as that dataset is "
        "distributed (its top folder, file names, annotation format and labels, audio format) "
        "under OUT.",
        epilog="example: cadence sample drums data/egmd-mini --performances 8 --kits 4\n"
        "another dataset's layout: cadence sample drums --layout enst data/enst  "
        "# data/enst/ENST-drums-public/...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("out", type=Path, help="output directory (created)")
    d.add_argument("--layout", choices=layouts.LAYOUTS, default="egmd",
                   help="which dataset's layout (default egmd); the options below marked "
                   "'egmd' apply to it alone")
    d.add_argument("--performances", type=int, default=4, help="egmd: distinct performances (default 4)")
    d.add_argument("--kits", type=int, default=3, help="egmd: drum kits each is rendered through (default 3)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d.add_argument("--min-duration", type=float, default=8.0, metavar="S", help="egmd: shortest performance, seconds")
    d.add_argument("--max-duration", type=float, default=20.0, metavar="S", help="egmd: longest performance, seconds")
    d.add_argument("--soundfont", type=Path, help="GM soundfont (default: the TimGM6mb.sf2 that pretty_midi ships)")
    d.add_argument("--jobs", type=int, default=0, help="egmd: parallel renders (default: all cores)")
    d.add_argument("--force", action="store_true", help="replace an existing sample corpus in OUT")
    d.add_argument("--zip", action="store_true",
                   help="write OUT as one zip (e.g. sample.zip), packed as E-GMD's download is")
    d.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    d.set_defaults(run=_one_writer(_run_drums))

    g = sub.add_parser(
        "gait",
        help="a LocoHub-standard phase-indexed Parquet",
        description="Write a LocoHub phase-indexed Parquet: 150 points per cycle, several subjects "
        "and tasks, real variable names, with a few invalid cycles, outliers and NaNs. With "
        "--time-indexed, the same strides as a time-indexed recording (time_s, one trial per subject "
        "x task) to convert with `cadence gait phase`.",
        epilog="examples:\n  cadence sample gait data/umich-scale.parquet --scale umich\n"
        "  cadence sample gait --time-indexed data/walk_time.parquet && "
        "cadence gait phase data/walk_time.parquet data/walk_phase.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("out", type=Path, help="output .parquet file")
    g.add_argument("--subjects", type=int, default=4, help="subjects (default 4)")
    g.add_argument("--strides-per-task", type=int, default=30, help="strides per subject and task (default 30)")
    g.add_argument("--features", type=int, default=40, help="feature columns, 20-80 (default 40)")
    g.add_argument("--scale", choices=["umich"], help="UMich-2021 scale: 10 subjects, ~2.1 M rows")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--clean", action="store_true", help="no injected invalid cycles, outliers or NaNs")
    g.add_argument("--time-indexed", action="store_true",
                   help="write a time-indexed recording (subject, task, time_s, variables) for `cadence gait phase`")
    g.add_argument("--rate", type=float, metavar="HZ",
                   help="with --time-indexed: samples per second (default 100)")
    g.add_argument("--force", action="store_true", help="replace an existing OUT file")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    g.set_defaults(run=_one_writer(_run_gait))

    s = sub.add_parser(
        "summary",
        help="summarise a sample (or real) dataset",
        description="Summarise a drum corpus directory (with its E-GMD CSV) or a gait Parquet file. "
        "Drum audio is decoded on all cores to check durations against the CSV.",
    )
    s.add_argument("path", type=Path, help="drum corpus directory or gait .parquet")
    s.add_argument("--jobs", type=int, default=0, help="worker threads (default: all cores)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    s.set_defaults(run=_run_summary)


def _one_writer(body):
    """``body`` holding OUT's lock (lock.py): a second sample run into the same OUT exits 2 instead
    of removing the first one's temporary directory."""
    def run(args: argparse.Namespace) -> int:
        from ..lock import output_lock

        kind = "directory" if body is _run_drums and not args.zip else "file"
        with output_lock(args.out, kind=kind):
            return body(args)
    return run


def _progress(desc: str, unit: str, quiet: bool):
    bar = Progress(desc, unit, False if quiet else None)

    def update(done: int, total: int) -> None:
        bar.update(done, total)

    return bar, update


def _run_drums(args: argparse.Namespace) -> int:
    """The corpus is rendered into a hidden directory beside OUT and renamed to OUT when whole:
    an interrupted or failed run leaves OUT as it was (absent, or the previous corpus)."""
    from . import CliError

    out: Path = args.out
    if args.zip:
        return _run_drums_zip(args)
    if out.suffix.lower() == ".zip":  # a directory named x.zip would pass for an archive
        raise CliError(f"{out} is named like a zip: add --zip to write the corpus as one zip file, or give "
                       f"a directory name, e.g. {out.with_suffix('')}")
    if out.exists() and not out.is_dir():
        raise CliError(f"{out} is a file; give a directory for the corpus")
    if out.exists() and any(out.iterdir()):
        if not args.force:
            raise CliError(f"{out} is not empty; pass --force to replace a sample corpus there")
        marker = drums.CSV_NAME if args.layout == "egmd" else layouts.MARKERS[args.layout]
        if not (out / marker).exists():
            raise CliError(f"{out} is not empty and holds no {marker}; refusing to delete it")
    check_writable(out.parent)
    for stale in out.parent.glob(f".{out.name}{TEMP_MARK}*"):  # left by a run killed outright
        shutil.rmtree(stale, ignore_errors=True)
    tmp = temp_name(out)
    if args.layout != "egmd":
        return _run_layout(args, tmp)
    try:
        bar, update = _progress("render", "pair", args.quiet)
        with bar:
            result = drums.generate(
                tmp,
                performances=args.performances,
                kits=args.kits,
                seed=args.seed,
                min_duration_s=args.min_duration,
                max_duration_s=args.max_duration,
                soundfont=args.soundfont,
                jobs=args.jobs or None,
                progress=update,
            )
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"wrote {result.n_pairs} MIDI/WAV pairs ({result.n_performances} performances, "
          f"{result.total_audio_s:.1f} s of audio) to {out}")
    return 0


def _generate_layout(args: argparse.Namespace, tmp: Path) -> layouts.LayoutSample:
    return layouts.generate(args.layout, tmp, seed=args.seed, soundfont=args.soundfont)


def _layout_message(sample: layouts.LayoutSample, where: Path) -> str:
    return (f"wrote {len(sample.files)} files ({sample.total_audio_s:.1f} s of audio) in the "
            f"{sample.layout} layout to {where}")


def _run_layout(args: argparse.Namespace, tmp: Path) -> int:
    """`--layout NAME` (not egmd): written into ``tmp`` beside OUT, renamed to OUT when whole."""
    try:
        sample = _generate_layout(args, tmp)
        replace_dir(tmp, args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(_layout_message(sample, args.out / layouts.TOP_FOLDERS[sample.layout]))
    return 0


def _run_drums_zip(args: argparse.Namespace) -> int:
    """`--zip`: rendered into a hidden directory beside OUT, packed into OUT (atomically), then
    the directory is removed."""
    from ..drums.archive import write_zip
    from . import CliError

    out: Path = args.out
    if out.is_dir():
        raise CliError(f"{out} is a directory; with --zip give a file name, e.g. {out}.zip")
    if out.exists() and not args.force:
        raise CliError(f"{out} exists; pass --force to replace it")
    check_writable(out.parent)
    tmp = temp_name(out)
    if args.layout != "egmd":
        try:
            sample = _generate_layout(args, tmp)
            write_zip(tmp, out, top=None)  # the dataset's own top folder is the zip's top
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(_layout_message(sample, out))
        return 0
    try:
        bar, update = _progress("render", "pair", args.quiet)
        with bar:
            result = drums.generate(tmp, performances=args.performances, kits=args.kits, seed=args.seed,
                                    min_duration_s=args.min_duration, max_duration_s=args.max_duration,
                                    soundfont=args.soundfont, jobs=args.jobs or None, progress=update)
        write_zip(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {result.n_pairs} MIDI/WAV pairs ({result.n_performances} performances, "
          f"{result.total_audio_s:.1f} s of audio) to {out}")
    return 0


def _run_gait(args: argparse.Namespace) -> int:
    from . import CliError

    out: Path = args.out
    if out.is_dir() or str(args.out).endswith(os.sep):
        raise CliError(f"{out} is a directory; give the file to write, e.g. {out / 'gait.parquet'}")
    if out.exists() and not args.force:
        raise CliError(f"{out} exists; pass --force to replace it")
    if out.suffix.lower() != ".parquet":  # the file holds what its name says
        raise CliError(f"{out}: the sample is a Parquet file; give a name ending in .parquet")
    check_writable(out.parent)
    if args.time_indexed:
        return _run_gait_time(args)
    if args.rate is not None:
        raise CliError("--rate goes with --time-indexed (the sampling rate of a time-indexed recording)")
    bar, update = _progress("generate", "stride", args.quiet)
    with bar:
        result = gait.generate(
            out,
            subjects=args.subjects,
            strides_per_task=args.strides_per_task,
            n_features=args.features,
            scale=args.scale,
            seed=args.seed,
            faults=not args.clean,
            progress=update,
        )
    print(f"wrote {result.n_rows:,} rows ({result.n_strides:,} strides, {len(result.subjects)} subjects, "
          f"{len(result.tasks)} tasks, {len(result.features)} features) to {result.path}")
    return 0


def _run_gait_time(args: argparse.Namespace) -> int:
    from ..sample.gait_time import generate_time_indexed

    bar, update = _progress("generate", "stride", args.quiet)
    with bar:
        r = generate_time_indexed(args.out, subjects=args.subjects, strides_per_task=args.strides_per_task,
                                  n_features=args.features, seed=args.seed, scale=args.scale, faults=not args.clean,
                                  rate_hz=args.rate or 100.0, progress=update)
    phase = r.path.with_name(f"{r.path.stem}_phase.parquet")
    print(f"wrote {r.n_rows:,} rows ({r.n_strides:,} strides at {r.rate_hz:g} Hz, {len(r.subjects)} subjects, "
          f"{len(r.tasks)} tasks, {len(r.features)} features) to {r.path}\n"
          f"convert it with: cadence gait phase {r.path} {phase}")
    return 0


def _run_summary(args: argparse.Namespace) -> int:
    from . import CliError

    path: Path = args.path
    if path.is_dir() or is_zip(path):
        text = summary.format_drums(summary.summarize_drums(path, jobs=args.jobs,
                                                            show_progress=False if args.quiet else None))
    elif path.suffix == ".parquet" and path.is_file():
        text = summary.format_gait(summary.summarize_gait(path))
    else:
        raise CliError(f"{path}: expected a drum corpus directory or a .parquet file (or a drum corpus .zip)")
    sys.stdout.write(text)
    return 0
