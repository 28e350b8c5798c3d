"""``cadence sample``: generate and summarise the bundled sample datasets."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from .. import summary
from ..sample import drums, gait


def register(groups: argparse._SubParsersAction) -> None:
    p = groups.add_parser(
        "sample",
        help="generate or summarise sample data",
        description="Deterministic sample data for demos, tests and benchmarks: an E-GMD-shaped "
        "drum corpus rendered with FluidSynth, and a LocoHub-standard gait Parquet.",
    )
    sub = p.add_subparsers(dest="command", metavar="KIND", required=True)

    d = sub.add_parser(
        "drums",
        help="an E-GMD-shaped MIDI + WAV corpus with its CSV",
        description="Write an E-GMD-shaped corpus: drummerN/sessionM/*.midi + .wav (44.1 kHz, "
        "16-bit mono) and e-gmd-v1.0.0.csv. Each performance is rendered through several kits.",
        epilog="example: cadence sample drums data/egmd-mini --performances 8 --kits 4",
    )
    d.add_argument("out", type=Path, help="output directory (created)")
    d.add_argument("--performances", type=int, default=4, help="distinct performances (default 4)")
    d.add_argument("--kits", type=int, default=3, help="drum kits each is rendered through (default 3)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d.add_argument("--min-duration", type=float, default=8.0, metavar="S", help="shortest performance, seconds")
    d.add_argument("--max-duration", type=float, default=20.0, metavar="S", help="longest performance, seconds")
    d.add_argument("--soundfont", type=Path, help="GM soundfont (default: TimGM6mb from Debian)")
    d.add_argument("--jobs", type=int, default=0, help="parallel renders (default: all cores)")
    d.add_argument("--force", action="store_true", help="replace an existing sample corpus in OUT")
    d.set_defaults(run=_run_drums)

    g = sub.add_parser(
        "gait",
        help="a LocoHub-standard phase-indexed Parquet",
        description="Write a LocoHub phase-indexed Parquet: 150 points per cycle, several subjects "
        "and tasks, real variable names, with a few invalid cycles, outliers and NaNs.",
        epilog="example: cadence sample gait data/umich-scale.parquet --scale umich",
    )
    g.add_argument("out", type=Path, help="output .parquet file")
    g.add_argument("--subjects", type=int, default=4, help="subjects (default 4)")
    g.add_argument("--strides-per-task", type=int, default=30, help="strides per subject and task (default 30)")
    g.add_argument("--features", type=int, default=40, help="feature columns, 20-80 (default 40)")
    g.add_argument("--scale", choices=["umich"], help="UMich-2021 scale: 10 subjects, ~2.1 M rows")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--clean", action="store_true", help="no injected invalid cycles, outliers or NaNs")
    g.set_defaults(run=_run_gait)

    s = sub.add_parser(
        "summary",
        help="summarise a sample (or real) dataset",
        description="Summarise a drum corpus directory (with its E-GMD CSV) or a gait Parquet file. "
        "Drum audio is decoded on all cores to check durations against the CSV.",
    )
    s.add_argument("path", type=Path, help="drum corpus directory or gait .parquet")
    s.add_argument("--jobs", type=int, default=0, help="worker threads (default: all cores)")
    s.set_defaults(run=_run_summary)


def _bar(desc: str, unit: str):
    bar = tqdm(desc=desc, unit=unit, leave=False, disable=None)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return bar, update


def _run_drums(args: argparse.Namespace) -> int:
    from . import CliError

    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            raise CliError(f"{args.out} is not empty; pass --force to replace a sample corpus there")
        if not (args.out / drums.CSV_NAME).exists():
            raise CliError(f"{args.out} is not empty and holds no {drums.CSV_NAME}; refusing to delete it")
        shutil.rmtree(args.out)
    bar, update = _bar("render", "pair")
    with bar:
        result = drums.generate(
            args.out,
            performances=args.performances,
            kits=args.kits,
            seed=args.seed,
            min_duration_s=args.min_duration,
            max_duration_s=args.max_duration,
            soundfont=args.soundfont,
            jobs=args.jobs or None,
            progress=update,
        )
    print(f"wrote {result.n_pairs} MIDI/WAV pairs ({result.n_performances} performances, "
          f"{result.total_audio_s:.1f} s of audio) to {result.root}")
    return 0


def _run_gait(args: argparse.Namespace) -> int:
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bar, update = _bar("generate", "stride")
    with bar:
        result = gait.generate(
            args.out,
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


def _run_summary(args: argparse.Namespace) -> int:
    from . import CliError

    path: Path = args.path
    if path.is_dir():
        text = summary.format_drums(summary.summarize_drums(path, jobs=args.jobs))
    elif path.suffix == ".parquet" and path.is_file():
        text = summary.format_gait(summary.summarize_gait(path))
    else:
        raise CliError(f"{path}: expected a drum corpus directory or a .parquet file")
    sys.stdout.write(text)
    return 0
