"""``cadence drums``: prepare E-GMD-style MIDI + audio pairs into training records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import drums
from .formatting import HelpFormatter


def register(groups: argparse._SubParsersAction) -> None:
    p = groups.add_parser("drums", help="drum-transcription data preparation",
                          description="Turn drum MIDI + audio pairs (E-GMD) into onset-aligned "
                          "training records in Parquet, on all cores, resumable.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    pr = sub.add_parser(
        "prepare", help="MIDI + audio pairs -> Parquet shards of onset records",
        description="Parse each MIDI (full tempo map), map pitches to classes, merge simultaneous "
        "hits, decode and resample the audio (libsoxr), and write onset records to Parquet shards. "
        "Rejected inputs are logged with a reason in OUT/rejects.csv; the run carries on.",
        formatter_class=HelpFormatter,
        epilog="examples:\n  cadence drums prepare e-gmd-v1.0.0 out/egmd --split train\n"
        "  cadence drums prepare e-gmd-v1.0.0 out/seed --layout clips --clip 5.0 --sample-fraction 0.005\n"
        "  cadence drums prepare e-gmd-v1.0.0 out/egmd --resume   # after Ctrl-C or a crash")
    pr.add_argument("root", type=Path, help="dataset root (with e-gmd-v1.0.0.csv, or MIDI + audio files)")
    pr.add_argument("out", type=Path, help="output directory")
    sel = pr.add_argument_group("selection")
    sel.add_argument("--csv", type=Path, help="E-GMD CSV (default: the one in ROOT, else scan ROOT)")
    sel.add_argument("--split", action="append", choices=["train", "validation", "test"],
                     help="keep this split (repeatable)")
    sel.add_argument("--kits", nargs="+", metavar="KIT", help="keep these kit names or numbers")
    sel.add_argument("--drummers", nargs="+", metavar="DRUMMER", help="keep these drummers")
    sel.add_argument("--sample-fraction", type=float, metavar="F",
                     help="keep this fraction of performances (deterministic for --seed)")
    sel.add_argument("--seed", type=int, default=0, help="seed for --sample-fraction")
    sel.add_argument("--limit", type=int, help="at most this many pairs")
    rec = pr.add_argument_group("records")
    rec.add_argument("--layout", choices=["index", "clips"], default="index",
                     help="index: audio once per file + onset table; clips: a window per onset")
    rec.add_argument("--sample-rate", type=int, default=22050, metavar="HZ", help="output rate; 0 keeps the original")
    rec.add_argument("--mapping", default="gmd9",
                     help="gmd9, magenta8, magenta3, adtof5, raw, or a JSON file {class: [pitches]}")
    rec.add_argument("--merge-ms", type=float, default=10.0, help="merge hits within this of a group's first hit")
    rec.add_argument("--pad-before", type=float, default=0.02, metavar="S", help="window starts this long before the onset")
    rec.add_argument("--clip", type=float, default=0.2, metavar="S", help="window length")
    rec.add_argument("--codec", choices=["auto", "flac", "pcm16", "float16", "float32"], default="auto",
                     help="clips layout: how windows are stored (auto = the seed's size rule)")
    rec.add_argument("--flac-level", type=int, default=0, choices=range(0, 9), metavar="0-8", help="FLAC compression level")
    chk = pr.add_argument_group("checks")
    chk.add_argument("--csv-tolerance", type=float, default=1.0, metavar="S", help="allowed |audio - CSV duration|")
    chk.add_argument("--midi-tolerance", type=float, default=1.0, metavar="S", help="allowed last note past audio end")
    run = pr.add_argument_group("run")
    run.add_argument("--jobs", type=int, default=0, help="worker threads (0 = all cores)")
    run.add_argument("--memory-limit", default="auto", help="bytes in flight, e.g. 4G (auto = half of RAM)")
    run.add_argument("--shard-size", default="512M", help="target shard size")
    run.add_argument("--resume", action="store_true", help="continue an interrupted run in OUT")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    pr.set_defaults(run=_prepare)

    ins = sub.add_parser("inspect", help="summary and class histogram of a prepared directory")
    ins.add_argument("out", type=Path)
    ins.add_argument("--json", action="store_true")
    ins.set_defaults(run=_inspect)

    ver = sub.add_parser("verify", help="check shard checksums and that every stored clip decodes",
                         description="Exit status 1 if anything is missing, truncated, corrupted or "
                         "undecodable; `prepare --resume` repairs a damaged directory.")
    ver.add_argument("out", type=Path)
    ver.add_argument("--no-decode", action="store_true", help="checksums only")
    ver.set_defaults(run=_verify)


def _prepare(a: argparse.Namespace) -> int:
    from . import CliError

    try:
        report = drums.prepare(
            a.root, a.out, csv=a.csv, splits=a.split, kits=a.kits, drummers=a.drummers,
            sample_fraction=a.sample_fraction, seed=a.seed, limit=a.limit, layout=a.layout,
            sample_rate_hz=a.sample_rate, mapping=a.mapping, merge_ms=a.merge_ms,
            pad_before_s=a.pad_before, clip_s=a.clip, codec=a.codec, flac_level=a.flac_level,
            csv_tolerance_s=a.csv_tolerance, midi_tolerance_s=a.midi_tolerance, jobs=a.jobs,
            memory_limit=a.memory_limit, shard_size=a.shard_size, resume=a.resume)
    except KeyboardInterrupt:
        print(f"cadence: interrupted; committed shards are kept. Continue with:\n"
              f"  cadence drums prepare {a.root} {a.out} --resume  (and the same options)", file=sys.stderr)
        return 130
    except (OSError, ValueError) as e:  # not found, exists, disk full, bad option...
        raise CliError(e.strerror if isinstance(e, OSError) and e.strerror and e.errno else str(e)) from None
    print(json.dumps(report, indent=1) if a.json else drums.prepare_format(report), end="" if not a.json else "\n")
    print(f"rejects: {a.out / 'rejects.csv'}; read back with cadence.drums.open({str(a.out)!r})",
          file=sys.stderr)
    return 0


def _inspect(a: argparse.Namespace) -> int:
    s = drums.inspect(a.out)
    if a.json:
        print(json.dumps(s, indent=1))
        return 0
    print(f"{s['path']}: {s['layout']} layout, {s['records']:,} records from {s['inputs']:,} inputs "
          f"in {s['shards']} shards ({s['bytes'] / 1e6:.1f} MB), {s['sample_rate_hz']} Hz, mapping {s['mapping']}")
    print(f"  splits    {s['splits']}")
    print(f"  rejected  {s['rejected'] or 0}")
    width = max((len(c) for c in s["class_histogram"]), default=0)
    top = max(s["class_histogram"].values(), default=0) or 1
    for name, n in s["class_histogram"].items():
        if n or len(s["class_histogram"]) <= 16:
            print(f"  {name:<{width}} {n:>8,} {'#' * round(40 * n / top)}")
    return 0


def _verify(a: argparse.Namespace) -> int:
    problems = drums.verify(a.out, decode=not a.no_decode)
    for p in problems:
        print(f"PROBLEM {p}")
    print(f"{a.out}: {'OK' if not problems else f'{len(problems)} problem(s); repair with --resume'}")
    return 1 if problems else 0
