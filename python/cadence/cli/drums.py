"""``cadence drums``: prepare E-GMD-style MIDI + audio pairs into training records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import drums
from ..drums.alignment import format_lines as alignment_lines
from ..drums.prepare import DEFAULTS as PREPARE_KWARG_DEFAULTS
from ..drums.datasets import NAMES as DATASETS
from ..text import counts, plural
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
    pr.add_argument("root", type=_place, help="dataset root (with e-gmd-v1.0.0.csv, or MIDI + audio files); "
                    "with --ray also a URI: s3://, gs://, hdfs://, file://")
    pr.add_argument("out", type=_place, help="output directory (with --ray also a URI, as ROOT)")
    # Options that shape the output default to None here, so that --resume can tell the ones
    # given on the command line from the ones to take from OUT's journal.
    sel = pr.add_argument_group("selection")
    sel.add_argument("--dataset", choices=("auto", *DATASETS), default=None,
                     help="which dataset ROOT is (default: auto, recognised from its layout; docs/drums.md, "
                     "'Datasets')")
    sel.add_argument("--audio", metavar="RECORDING", default=None,
                     help="which recording where the dataset has several: enst wet_mix|dry_mix|<mic>, "
                     "mdb full_mix|drum_only, slakh mix|drums (default: the first)")
    sel.add_argument("--slakh-kit-map", choices=("adtof",), default=None,
                     help="Slakh: rewrite each drum stem's notes through ADTOF's table for its kit "
                     "(metadata.yaml plugin_name) before --mapping (default: the notes as GM pitches)")
    sel.add_argument("--csv", type=Path, help="E-GMD CSV (default: the one in ROOT, else scan ROOT)")
    sel.add_argument("--split", action="append", choices=["train", "validation", "test"],
                     help="keep this split (repeatable)")
    sel.add_argument("--kits", nargs="+", metavar="KIT", help="keep these kit names or numbers")
    sel.add_argument("--drummers", nargs="+", metavar="DRUMMER", help="keep these drummers")
    sel.add_argument("--sample-fraction", type=float, metavar="F",
                     help="keep this fraction of performances (deterministic for --seed)")
    _opt(sel, "--seed", int, "seed for --sample-fraction")
    sel.add_argument("--limit", type=int, help="at most this many pairs")
    sel.add_argument("--channels", type=int, nargs="+", metavar="N",
                     help="only notes on these MIDI channels, 1-16 (10 = General MIDI drums); default: all")
    rec = pr.add_argument_group("records")
    _opt(rec, "--layout", str, "index: audio once per file + onset table; clips: a window per onset",
         choices=["index", "clips"])
    _opt(rec, "--sample-rate", int, "output rate; 0 keeps the original", metavar="HZ")
    _opt(rec, "--mapping", str, "auto (gmd9 for E-GMD/GMD/StemGMD/pairs, adtof5 for the other datasets), gmd9, "
         "magenta8, magenta3, adtof5, raw, or a JSON file {class: [pitches]}")
    _opt(rec, "--merge-ms", float, "merge hits within this of a group's first hit")
    _opt(rec, "--pad-before", float, "window starts this long before the onset", metavar="S")
    _opt(rec, "--clip", float, "window length", metavar="S")
    _opt(rec, "--codec", str, "clips layout: how windows are stored (auto = the seed's size rule)",
         choices=["auto", "flac", "pcm16", "float16", "float32"])
    _opt(rec, "--index-codec", str, "index layout: how each file's audio is stored (flac: about half the "
         "bytes, frame-indexed for random reads; pcm16: raw, memory-mappable, fastest to read)",
         choices=["flac", "pcm16"])
    _opt(rec, "--flac-level", int, "FLAC compression level", choices=range(0, 9), metavar="0-8")
    chk = pr.add_argument_group("checks")
    _opt(chk, "--csv-tolerance", float, "allowed |audio - CSV duration|", metavar="S")
    _opt(chk, "--midi-tolerance", float, "allowed last note past audio end", metavar="S")
    chk.add_argument("--max-offset-ms", type=float, metavar="MS",
                     help="reject pairs whose audio lies further than this from the MIDI (estimated per "
                     "file; default: report the offsets only)")
    chk.add_argument("--align", action="store_true", default=None,
                     help="move each pair's onsets by its estimated MIDI/audio offset")
    run = pr.add_argument_group("run")
    run.add_argument("--jobs", type=int, default=0, help="worker threads (0 = all cores)")
    run.add_argument("--memory-limit", default="auto", help="bytes in flight, e.g. 4G (auto = half of RAM)")
    _opt(run, "--shard-size", str, "target shard size")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in OUT with the options in its journal")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.add_argument("--monitor", action="store_true",
                     help="sample CPU, memory, budget and progress into OUT/report.json and OUT/report.png")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    ray = pr.add_argument_group("cluster (docs/scale-out.md)")
    ray.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                     help="run the work units on a Ray cluster (ADDRESS such as 10.0.0.1:6379 or auto; none: "
                     "$RAY_ADDRESS, else a cluster on this machine); ROOT and OUT must be seen by every node, or "
                     "be URIs (s3://, gs://, hdfs://, file://). "
                     "Needs: pip install 'cadence[ray]'")
    ray.add_argument("--unit-inputs", type=int, metavar="N",
                     help="with --ray: consecutive inputs per work unit (default: 64)")
    pr.set_defaults(run=_prepare)

    ins = sub.add_parser("inspect", help="summary and class histogram of a prepared directory")
    ins.add_argument("out", type=Path, help="a directory written by `cadence drums prepare`")
    ins.add_argument("--json", action="store_true", help="print the summary as JSON")
    seq = ins.add_argument_group("sequences (index layout): one example drawn to a PNG")
    seq.add_argument("--sequences", action="store_true", help="show sequence examples instead of records")
    seq.add_argument("--index", type=int, default=0, help="which sequence (default 0)")
    seq.add_argument("--length-s", type=float, default=4.0, help="sequence length (default 4.0)")
    seq.add_argument("--fps", type=float, default=100.0, help="frames per second (default 100)")
    seq.add_argument("--features", choices=("mel", "log_filtered"), default="mel", help="spectrogram drawn")
    seq.add_argument("--png", type=Path, help="write the picture here")
    ins.set_defaults(run=_inspect)

    ver = sub.add_parser("verify", help="check shard checksums and that every stored clip decodes",
                         description="Exit status 1 if anything is missing, truncated, corrupted or "
                         "undecodable; `prepare --resume` repairs a damaged directory.")
    ver.add_argument("out", type=Path, help="a directory written by `cadence drums prepare`")
    ver.add_argument("--no-decode", action="store_true", help="checksums only")
    ver.add_argument("--json", action="store_true", help='print {"path", "ok", "problems"} as JSON')
    ver.set_defaults(run=_verify)


# Command-line option -> prepare() keyword, for the options the journal keeps.
_KWARGS = {
    "csv": "csv", "split": "split", "kits": "kits", "drummers": "drummers", "sample_fraction": "sample_fraction",
    "seed": "seed", "limit": "limit", "channels": "channels", "layout": "layout", "sample_rate": "sample_rate_hz",
    "mapping": "mapping", "merge_ms": "merge_ms", "pad_before": "pad_before_s", "clip": "clip_s", "codec": "codec",
    "index_codec": "index_codec",
    "flac_level": "flac_level", "csv_tolerance": "csv_tolerance_s", "midi_tolerance": "midi_tolerance_s",
    "shard_size": "shard_size", "max_offset_ms": "max_offset_ms", "align": "align", "dataset": "dataset",
    "audio": "audio", "slakh_kit_map": "slakh_kit_map",
}

# The defaults of the options that shape the output (those a resumed run takes from the journal),
# by option: prepare()'s own (drums.prepare.DEFAULTS, the engine's where it defines them).
PREPARE_DEFAULTS = {k: PREPARE_KWARG_DEFAULTS[_KWARGS[k]] for k in (
    "seed", "layout", "sample_rate", "mapping", "merge_ms", "pad_before", "clip", "codec", "index_codec",
    "flac_level", "csv_tolerance", "midi_tolerance", "shard_size")}


def _opt(group, flag: str, type_, help_: str, **kw) -> None:
    dest = flag.lstrip("-").replace("-", "_")
    group.add_argument(flag, type=type_, default=None, help=f"{help_} (default: {PREPARE_DEFAULTS[dest]})", **kw)


def _place(text: str) -> str | Path:
    """A path, or a URI kept as text (s3://bucket/x: a Path would fold its //)."""
    from ..cluster import is_uri

    return text if is_uri(text) else Path(text)


def _prepare(a: argparse.Namespace) -> int:
    from . import CliError
    from ..cluster import is_uri, join_uri

    given = {_KWARGS[k]: getattr(a, k) for k in _KWARGS if getattr(a, k) is not None}
    if is_uri(a.out) and a.monitor:
        raise CliError("--monitor writes beside a local OUT; drop it for an OUT given as a URI")
    if a.resume and is_uri(a.out):
        kept = drums.journal_options(a.out, a.root)
        kwargs = _resume_options(a, given, kept) if kept is not None else (
            {_KWARGS[k]: v for k, v in PREPARE_DEFAULTS.items()} | given)
    elif a.resume and (a.out / drums.JOURNAL).is_file():
        kwargs = _resume_options(a, given)
    else:
        kwargs = {_KWARGS[k]: v for k, v in PREPARE_DEFAULTS.items()} | given
    from ..lock import output_lock
    from ..monitor import MonitoredRun

    try:  # one writer per OUT (lock.py): a second one exits 2 before it touches anything
        with output_lock(a.out), MonitoredRun(a.out / "report.json" if a.monitor else None):
            report = drums.prepare(a.root, a.out, jobs=a.jobs, memory_limit=a.memory_limit, resume=a.resume,
                                   show_progress=False if a.quiet else None, **kwargs, **_cluster(a))
    except ImportError as e:  # cadence.cluster.RayMissing: says how to install Ray
        raise CliError(str(e)) from None
    except KeyboardInterrupt:
        print(f"cadence: interrupted; committed shards are kept. Continue with:\n"
              f"  cadence drums prepare {a.root} {a.out} --resume{_ray_flag(a)}", file=sys.stderr)
        return 130
    except drums.NothingSelected as e:
        raise CliError(str(e)) from None
    if not report["files_ok"] and report["rejected"]:
        raise CliError(_all_rejected(a.out, report))
    print(json.dumps(report, indent=1) if a.json else drums.prepare_format(report), end="" if not a.json else "\n")
    if not a.quiet:
        if is_uri(a.out):  # the reader takes local paths
            print(f"rejects: {join_uri(a.out, 'rejects.csv')}; read back from a local copy or a mount of {a.out} "
                  f"(docs/scale-out.md)", file=sys.stderr)
        else:
            print(f"rejects: {a.out / 'rejects.csv'}; read back with cadence.drums.open({str(a.out)!r})",
                  file=sys.stderr)
    return 0


# What to check when every input was rejected for this reason (the reasons: the engine's
# reject_name in src/cadence/drums/pair_processor.cpp, and inputs.py's CSV rows).
_REJECT_HINTS = {
    "missing_midi": "check that ROOT is the corpus directory: the CSV's paths are relative to it",
    "missing_audio": "check that ROOT is the corpus directory (the CSV's paths are relative to it) and that "
                     "each .mid has a .wav or .flac of the same name",
    "bad_midi": "check the MIDI files (Standard MIDI Files, format 0 or 1)",
    "bad_audio": "check the audio files (WAV or FLAC that decode)",
    "empty_audio": "check the audio files: they hold no samples",
    "no_notes": "check --channels and --mapping: no note of the MIDI files was kept",
    "duration_mismatch": "check that the CSV's durations belong to these audio files, or raise --csv-tolerance",
    "midi_past_audio": "check that each MIDI file belongs to its audio, or raise --midi-tolerance",
    "misaligned": "check that each MIDI file belongs to its audio, or raise --max-offset-ms",
    "path_outside_root": "the CSV names paths outside ROOT: check ROOT and the CSV",
    "csv_missing_field": "check the CSV: its rows have empty fields",
    "csv_bad_value": "check the CSV: its durations or bpm are not numbers",
    "bad_annotation": "check the annotation files at the line each message names (docs/drums.md, 'Annotation "
                      "formats'), or choose the dataset with --dataset",
    "missing_annotation": "check that ROOT is the dataset's own top folder: the annotation files are named "
                          "relative to it",
    "bad_metadata": "check the dataset's metadata files (Slakh's metadata.yaml) the messages name",
}


def _all_rejected(out, report: dict) -> str:
    """One line for a run that prepared nothing: the commonest reason, one example, what to check."""
    from ..cluster import is_uri, join_uri
    from ..drums.store import read_journal

    reason, n = max(report["rejected"].items(), key=lambda kv: kv[1])
    total = sum(report["rejected"].values())
    example = ""
    try:  # the first message of that reason, from the journal (a local OUT only)
        _, commits = read_journal(Path(out) / drums.JOURNAL)
        example = next(r["message"] for c in commits for r in c.rejects if r["reason"] == reason)
    except (OSError, ValueError, StopIteration):
        pass
    why = f"{reason} ({n:,}{', e.g. ' + example if example else ''})"
    hint = _REJECT_HINTS.get(reason, "see the messages in rejects.csv")
    rejects = join_uri(out, "rejects.csv") if is_uri(out) else Path(out) / "rejects.csv"
    return (f"nothing prepared: {'the' if total == 1 else 'all'} {plural(total, 'input')} rejected, most as {why}; "
            f"{hint}. The rejects are listed in {rejects}; remove {out} before preparing into it again")


def _cluster(a: argparse.Namespace) -> dict:
    """prepare()'s executor arguments from --ray [ADDRESS] and --unit-inputs."""
    from . import CliError

    if a.unit_inputs is not None and a.ray is None:
        raise CliError("--unit-inputs goes with --ray (the work units of a cluster run)")
    return {} if a.ray is None else {"executor": "ray", "ray_address": a.ray or None, "unit_inputs": a.unit_inputs}


def _ray_flag(a: argparse.Namespace) -> str:
    return "" if a.ray is None else " --ray" + (f" {a.ray}" if a.ray else "")


def _resume_options(a: argparse.Namespace, given: dict, kept: dict | None = None) -> dict:
    """The journal's options; an option given on the command line must agree with it."""
    from . import CliError

    if kept is None:
        try:
            kept = drums.journal_options(a.out, a.root)
        except (KeyError, TypeError, AttributeError) as e:  # options missing or of the wrong type
            raise CliError(f"{a.out / drums.JOURNAL}: the header's options are damaged ({type(e).__name__}: {e}); "
                           f"prepare into a new directory") from None
    flags = {v: "--" + k.replace("_", "-") for k, v in _KWARGS.items()}
    merged = kept | given
    try:
        mine = drums.prepare_config(a.root, merged)
        theirs = drums.prepare_config(a.root, kept)
    except ValueError as e:
        raise CliError(str(e)) from None
    differ = sorted(k for k in given if mine[k] != theirs[k])
    if differ:
        shown = "; ".join(f"{flags[k]} was {_show(theirs[k])}, now {_show(mine[k])}" for k in differ)
        raise CliError(f"{a.out} was prepared with other options ({shown}). --resume takes them from "
                       f"{a.out}/{drums.JOURNAL}: drop them from the command, or prepare into a new directory")
    return kept


def _show(v) -> str:
    if isinstance(v, list):
        return " ".join(map(str, v)) if v else "none"
    return "none" if v is None else str(v)


def _inspect(a: argparse.Namespace) -> int:
    if a.sequences:
        return _inspect_sequences(a)
    if a.png:
        raise ValueError("--png draws a sequence example: add --sequences")
    s = drums.inspect(a.out)
    if a.json:
        print(json.dumps(s, indent=1))
        return 0
    print(f"{s['path']}: {s['layout']} layout, {plural(s['records'], 'record')} from {plural(s['inputs'], 'input')} "
          f"in {plural(s['shards'], 'shard')} ({s['bytes'] / 1e6:.1f} MB), {s['sample_rate_hz']} Hz, "
          f"mapping {s['mapping']}")
    if s["incomplete"]:
        print(f"  {s['incomplete']['message']}")
    print(f"  splits    {counts(s['splits'])} (records)")
    rejected = sum(s["rejected"].values())
    print(f"  rejected  {rejected:,}" + (f" ({counts(s['rejected'])}; listed in rejects.csv)" if rejected else ""))
    for line in alignment_lines(s.get("alignment", {})):
        print(line.replace("  alignment      ", "  alignment ", 1))
    width = max((len(c) for c in s["class_histogram"]), default=0)
    top = max(s["class_histogram"].values(), default=0) or 1
    for name, n in s["class_histogram"].items():
        if n or len(s["class_histogram"]) <= 16:
            print(f"  {name:<{width}} {n:>8,} {'#' * round(40 * n / top)}")
    return 0


def _inspect_sequences(a: argparse.Namespace) -> int:
    drums.inspect(a.out)  # names a missing or damaged directory before anything is read
    ds = drums.open(a.out, mode="sequences", length_s=a.length_s, fps=a.fps, features=a.features)
    print(f"{ds.path}: {len(ds):,} sequences of {ds.length_s} s from {len(ds._files):,} files, {ds.n_frames} frames "
          f"of {ds.hop_samples} samples ({ds.frame_rate_hz:.2f} frames/s) at {ds.sample_rate_hz} Hz, "
          f"{len(ds.band_hz)} {a.features} bands, classes {', '.join(ds.class_names)}")
    if a.png:
        ds.save_png(a.index, a.png)
        print(f"  sequence {a.index} drawn to {a.png}")
    return 0


def _verify(a: argparse.Namespace) -> int:
    from . import EXIT_OK, EXIT_PROBLEMS

    from ..drums.verify import counts as stored

    problems = drums.verify(a.out, decode=not a.no_decode)
    n = stored(a.out)
    if a.json:
        print(json.dumps({"path": str(a.out), "ok": not problems, "problems": problems, "counts": n}, indent=1))
    else:
        for p in problems:
            print(f"PROBLEM {p}")
        checked = "checksums" if a.no_decode else "checksums and decoding"
        what = (f"{plural(n['records'], 'record')} from {plural(n['inputs'], 'input')} "
                f"({n['rejected']:,} rejected) in {plural(n['files'], 'file')} of {plural(n['shards'], 'shard')}, "
                f"{n['bytes'] / 1e6:.1f} MB")
        print(f"{a.out}: " + (f"OK: {what}; {checked} checked" if not problems else
                              f"{plural(len(problems), 'problem')} in {what}; repair with --resume"))
    return EXIT_PROBLEMS if problems else EXIT_OK
