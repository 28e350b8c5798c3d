"""`cadence drums prepare`: MIDI + audio pairs to onset-aligned training records.

Data flow: inputs.py finds and filters the pairs -> the engine (``_core.PrepareRun``) parses,
merges, decodes, resamples and encodes every pair on all cores and returns the results in
input order -> this module adds each pair's metadata columns and streams the records into
Parquet shards through store.py, which commits each finished shard to the journal -> a run
report and a manifest are written at the end (and re-derived from the journal on --resume).
"""

from __future__ import annotations

import csv as csv_mod
import errno
import io
import json
import math
import os
import resource
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from .. import _core
from ..atomic import atomic_path
from ..runtime import make_job, parse_bytes, run_job
from . import alignment as alignment_mod
from . import datasets
from . import inputs as inputs_mod
from .corpus import Corpus, PairInput
from . import report as report_mod
from .class_maps import BUILTIN, ClassMap, load_class_map
from .ray_executor import accepts_uris
from .store import DATASET_COLUMN, JOURNAL, PAIR_COLUMNS, REPORT, Store, dataset_of, read_journal

#: The stored codecs, by the engine's code (0 is auto, a rule rather than a codec).
CODECS = tuple(_core.drums_codecs()[1:])
_ENGINE = _core.drums_prepare_defaults()  # drums::PrepareConfig's defaults
#: prepare()'s defaults for the options that shape the output, by keyword: the engine's where it
#: defines them (in prepare()'s units), the rest this layer's. The signature, prepare_config and
#: the CLI read them here.
DEFAULTS = {"csv": None, "split": None, "kits": None, "drummers": None, "sample_fraction": None, "seed": 0,
            "limit": None, "channels": None, "layout": _ENGINE["layout"], "sample_rate_hz": _ENGINE["sample_rate_hz"],
            "mapping": "auto", "merge_ms": _ENGINE["merge_s"] * 1e3, "pad_before_s": _ENGINE["pad_before_s"],
            "clip_s": _ENGINE["clip_s"], "codec": _ENGINE["codec"], "index_codec": _ENGINE["index_codec"],
            "flac_level": _ENGINE["flac_level"], "csv_tolerance_s": _ENGINE["csv_tolerance_s"],
            "midi_tolerance_s": _ENGINE["midi_tolerance_s"], "shard_size": "512M", "max_offset_ms": None,
            "align": _ENGINE["align"]}


class NothingSelected(ValueError):
    """No input is left to prepare: the corpus holds no pairs, or the filters removed them all."""


@accepts_uris  # ROOT/OUT as s3://, gs://, file://... URIs with executor="ray" (ray_executor.py)
def prepare(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    dataset: str = "auto",
    audio: str | None = None,
    csv: str | os.PathLike | None = None,
    split: str | list[str] | None = None,
    kits: list[str | int] | None = None,
    drummers: list[str] | None = None,
    sample_fraction: float | None = None,
    seed: int = DEFAULTS["seed"],
    limit: int | None = None,
    layout: str = DEFAULTS["layout"],
    sample_rate_hz: int = DEFAULTS["sample_rate_hz"],
    mapping: str | ClassMap = DEFAULTS["mapping"],
    channels: list[int] | None = None,
    merge_ms: float = DEFAULTS["merge_ms"],
    pad_before_s: float = DEFAULTS["pad_before_s"],
    clip_s: float = DEFAULTS["clip_s"],
    codec: str = DEFAULTS["codec"],
    index_codec: str = DEFAULTS["index_codec"],
    flac_level: int = DEFAULTS["flac_level"],
    csv_tolerance_s: float = DEFAULTS["csv_tolerance_s"],
    midi_tolerance_s: float = DEFAULTS["midi_tolerance_s"],
    max_offset_ms: float | None = None,
    align: bool = DEFAULTS["align"],
    shard_size: str | int = DEFAULTS["shard_size"],
    jobs: int = 0,
    memory_limit: str | int | None = "auto",
    resume: bool = False,
    show_progress: bool | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    unit_inputs: int | None = None,
) -> dict:
    """Prepare onset-aligned training records from MIDI + audio pairs.

    Parameters
    ----------
    root
        The dataset's own top folder as distributed (``ENST-drums-public/``, ``MDB Drums/``,
        ``slakh2100_flac_redux/``, E-GMD's with its CSV...), its zip (``e-gmd-v1.0.0.zip``, read
        without extracting it: the same records), or, with ``executor="ray"``, a URI. Without a
        known layout, every ``.mid``/``.midi`` is paired with the ``.wav``/``.flac`` of the same stem.
    dataset
        ``auto`` (recognised from the layout), or one of ``egmd``, ``gmd``, ``stemgmd``, ``slakh``,
        ``enst``, ``mdb``, ``idmt``, ``rbma13``, ``tmidt``, ``pairs`` (docs/drums.md, "Datasets").
    audio
        Which recording where a dataset has several (ENST's ``wet_mix``, ``dry_mix`` or one mic;
        MDB's ``full_mix`` or ``drum_only``; Slakh's ``mix`` or ``drums``); None: the usual one.
    out
        Output directory: Parquet shards, ``journal.jsonl``, ``manifest.json``,
        ``rejects.csv`` and ``report.json``.
    split, kits, drummers
        Keep only these splits (``train``, ``validation``, ``test``), kits (names, or numbers:
        E-GMD's ``_N`` file suffix) and drummers: the names of the command line's ``--split``,
        ``--kits``, ``--drummers`` and of :meth:`DrumDataset.filter`.
    layout
        ``"index"`` (each file's audio once + an onset table; windows cut at read time) or
        ``"clips"`` (one record per onset holding its window, the seed pipeline's design).
    sample_rate_hz
        Output rate (libsoxr, high quality); 0 keeps each file's own rate.
    mapping
        ``auto`` (the dataset's usual vocabulary: ``gmd9`` for E-GMD, GMD, StemGMD and plain
        pairs, ADTOF's ``adtof5`` for ENST, MDB, IDMT, RBMA13, TMIDT and Slakh, whose labels
        reach GM pitches that gmd9 does not list, such as ENST's ``bd`` = 35), ``gmd9``, ``magenta8``, ``magenta3``, ``adtof5``, ``raw``, or a JSON file
        ``{"class": [pitches...], ...}`` (or a loaded :class:`ClassMap`).
    channels
        MIDI channels to take notes from, 1..16 (10 = General MIDI drums); None = all, as E-GMD
        needs (its notes are on channel 10 but nothing else is in its files).
    merge_ms
        Hits within this many milliseconds of a group's first hit form one record.
    pad_before_s, clip_s
        Clip window ``[onset - pad_before_s, onset - pad_before_s + clip_s]``, zero-padded.
    codec
        Clips: ``auto`` (the seed's size rule), ``flac``, ``pcm16``, ``float16``, ``float32``.
    max_offset_ms
        Reject a pair (``misaligned``) whose audio lies further than this from its MIDI, as
        estimated per file (alignment.py); None: report the offsets only.
    align
        Move each pair's onsets by its estimated offset before the records are made.
    memory_limit
        Bound on bytes in flight (``"4G"``; ``"auto"`` = half of RAM).
    resume
        Continue an interrupted run in ``out``: committed inputs are skipped, damaged or
        uncommitted shards are redone. The options must be the ones in the journal:
        ``prepare(root, out, resume=True, **journal_options(out, root))`` takes them from it (the
        command line's ``--resume`` does this).
    executor
        ``"local"`` (this machine's cores) or ``"ray"``: units of ``unit_inputs`` consecutive
        inputs run as Ray tasks on the cluster at ``ray_address`` (None: Ray's default; an
        existing ``ray.init`` connection is used as is), each with a node's cores and
        ``memory_limit`` (``"auto"``: its share of half the node's RAM); the shards are committed
        here in input order, so the records are a local run's (docs/drums.md, "Beyond one
        machine"). ROOT and OUT must be paths every node sees (a shared file system).

    Raises
    ------
    NothingSelected
        Nothing to prepare (no pairs found, or the filters left none); nothing is created.
    ValueError
        An option out of range (named), checked before anything is created on disk.

    Returns
    -------
    dict
        The run report (also written to ``out/report.json``).
    """
    start = time.perf_counter()
    out = Path(out)
    # Every option is checked before anything is created on disk: a typo must not leave an OUT
    # that the corrected command then refuses without --resume.
    memory_limit_bytes = check_options(
        limit=limit, layout=layout, sample_rate_hz=sample_rate_hz, merge_ms=merge_ms,
        pad_before_s=pad_before_s, clip_s=clip_s, codec=codec, index_codec=index_codec,
        flac_level=flac_level, csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
        shard_size=shard_size, jobs=jobs, memory_limit=memory_limit, sample_fraction=sample_fraction,
        channels=channels, max_offset_ms=max_offset_ms)
    if executor not in ("local", "ray"):
        raise ValueError(f"executor={executor!r}: use 'local' or 'ray'")
    from .. import cluster

    if executor == "ray":
        from . import ray_executor

        ray_executor.split_units(0, ray_executor.UNIT_INPUTS if unit_inputs is None else unit_inputs)
        cluster.import_ray()  # not installed: say so before anything is created
    corpus = Corpus(root)  # a directory, a zip read in place, or a URI (corpus.py)
    split, kits = _listed(split), None if kits is None else [str(k) for k in _listed(kits)]
    unknown = sorted(set(split or ()) - set(inputs_mod.SPLITS))
    if unknown:
        raise ValueError(f"--split {' '.join(map(str, unknown))}: choose among {', '.join(inputs_mod.SPLITS)}")
    filters = {"splits": split, "kits": kits, "drummers": _listed(drummers), "sample_fraction": sample_fraction,
               "seed": seed, "limit": limit}
    try:
        listing = datasets.list_pairs(corpus, dataset, csv=csv, audio=audio)
    except datasets.NoDataset as e:
        raise NothingSelected(str(e)) from None
    pairs, pre_rejects = listing.pairs, listing.rejects
    csv_path = listing.source
    selected = inputs_mod.select(pairs, **filters)
    if not selected:
        raise NothingSelected(inputs_mod.explain_empty(listing.found, pairs, pre_rejects, **filters))
    class_map = mapping if isinstance(mapping, ClassMap) else load_class_map(
        datasets.MODULES[listing.dataset].MAPPING if mapping == "auto" else mapping)
    config = build_config(
        layout=layout, sample_rate_hz=sample_rate_hz, class_map=class_map, channels=channels,
        merge_ms=merge_ms, pad_before_s=pad_before_s, clip_s=clip_s, codec=codec, index_codec=index_codec,
        flac_level=flac_level, csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
        shard_size=shard_size, csv_path=csv_path, splits=split, kits=kits, drummers=filters["drummers"],
        sample_fraction=sample_fraction, seed=seed, limit=limit, max_offset_ms=max_offset_ms, align=align,
        dataset=listing.dataset, choices=listing.choices)
    unpaired = listing.unpaired(corpus)
    # Connected before OUT is created: a cluster that cannot be reached leaves nothing behind.
    ray, owned = cluster.connect(ray_address) if executor == "ray" else (None, False)
    store = (ray_executor.open_store if executor == "ray" else Store.open)(out, config, resume=resume)
    done = store.done_ids
    todo = [p for p in selected if p.pair_id not in done]
    rejects = [{"pair_id": r.pair_id, "reason": r.reason, "message": r.message}
               for r in pre_rejects if r.pair_id not in done]
    # Every input this directory is to hold, in the journal's terms (store.done_ids): a reader
    # compares it with the journal to tell a finished directory from one with inputs left.
    planned = len({p.pair_id for p in selected} | {r.pair_id for r in pre_rejects})
    report_mod.mark_running(out, planned)

    engine = dict(layout=layout, sample_rate_hz=sample_rate_hz, merge_s=merge_ms / 1e3, pad_before_s=pad_before_s,
                  clip_s=clip_s, codec=codec, index_codec=index_codec, flac_level=flac_level,
                  csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
                  map_name=class_map.name, classes=class_map.classes, channels=channels or [],
                  archive=corpus.archive,
                  max_offset_s=math.nan if max_offset_ms is None else max_offset_ms / 1e3, align=align)
    totals = _Totals()
    totals.rejects.update(r["reason"] for r in rejects)
    interrupted = False
    extra: dict = {}
    try:
        if executor == "ray":
            try:
                job, n_units, interrupted = ray_executor.prepare_units(
                    ray, corpus, todo, rejects, store, engine, totals, show_progress=show_progress,
                    unit_inputs=ray_executor.UNIT_INPUTS if unit_inputs is None else unit_inputs,
                    memory_limit=memory_limit if memory_limit == "auto" else memory_limit_bytes)
            finally:
                cluster.disconnect(ray, owned)
            extra = {"executor": "ray", "units": n_units, "nodes": job.node_report()}
        else:
            job = make_job(jobs, memory_limit_bytes)
            run = _core.PrepareRun([p.engine_input(corpus.engine_path) for p in todo], job, **engine)
            run_job(lambda: _write_all(run, todo, store, rejects, totals, job), job, desc="prepare",
                    show_progress=show_progress, postfix=_postfix)
    except KeyboardInterrupt:
        interrupted = True
    except ConnectionError:  # a Ray cluster lost (drums/ray_executor.py): its message says what to do
        raise
    except OSError as e:  # a full disk, a vanished mount: the journal keeps what was committed
        # Only a full disk is blamed on space (another writer of OUT is refused before this: lock.py).
        fix = "Free some space" if e.errno in (errno.ENOSPC, errno.EDQUOT) else "Fix the cause"
        raise OSError(e.errno, f"{out}: {e.strerror or e} while writing a shard; the "
                      f"{len(store.commits)} committed commit(s) are kept and the half-written shard "
                      f"was removed. {fix}, then run the same command with --resume") from e
    report = _report(store, totals, job, time.perf_counter() - start, len(selected), len(todo), interrupted,
                     unpaired) | {"inputs_planned": planned} | extra
    write_manifest(out)
    _write_atomic(out / REPORT, json.dumps(report, indent=1) + "\n")
    if interrupted:
        raise KeyboardInterrupt
    return report


def _listed(values) -> list | None:
    """One value or several, as a list (a lone string is one value, not its letters)."""
    return None if values is None else [values] if isinstance(values, (str, int)) else list(values)


MAX_SAMPLE_RATE_HZ = 384_000  # above every audio format we decode, and within FLAC's limit


def check_options(*, limit, layout, sample_rate_hz, merge_ms, pad_before_s, clip_s, codec, index_codec,
                  flac_level, csv_tolerance_s, midi_tolerance_s, shard_size, jobs, memory_limit,
                  sample_fraction, channels, max_offset_ms=None) -> int:
    """Raise ValueError, naming the option, for any value that cannot work; returns the memory
    limit in bytes. Called before anything is created on disk."""
    def need(ok: bool, option: str, value, what: str) -> None:
        if not ok:
            raise ValueError(f"{option} {value!r}: {what}")

    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    need(limit is None or (isinstance(limit, int) and limit >= 0), "--limit", limit, "must be a whole number >= 0")
    need(layout in ("index", "clips"), "--layout", layout, "choose index or clips")
    need(isinstance(sample_rate_hz, int) and 0 <= sample_rate_hz <= MAX_SAMPLE_RATE_HZ, "--sample-rate",
         sample_rate_hz, f"must be 0 (keep each file's rate) or 1..{MAX_SAMPLE_RATE_HZ} Hz")
    need(number(merge_ms) and merge_ms >= 0, "--merge-ms", merge_ms, "must be a number >= 0")
    need(number(pad_before_s) and pad_before_s >= 0, "--pad-before", pad_before_s, "must be a number of seconds >= 0")
    need(number(clip_s) and 0 < clip_s <= 600, "--clip", clip_s, "must be a number of seconds in (0, 600]")
    need(codec in ("auto", *CODECS), "--codec", codec, "choose auto, flac, pcm16, float16 or float32")
    need(index_codec in CODECS, "index_codec", index_codec, "choose flac, pcm16, float16 or float32")
    need(isinstance(flac_level, int) and 0 <= flac_level <= 8, "--flac-level", flac_level, "must be 0..8")
    need(number(csv_tolerance_s) and csv_tolerance_s >= 0, "--csv-tolerance", csv_tolerance_s, "must be >= 0 seconds")
    need(number(midi_tolerance_s) and midi_tolerance_s >= 0, "--midi-tolerance", midi_tolerance_s,
         "must be >= 0 seconds")
    need(isinstance(jobs, int) and jobs >= 0, "--jobs", jobs, "must be 0 (all cores) or more")
    need(sample_fraction is None or (number(sample_fraction) and 0 < sample_fraction <= 1),
         "--sample-fraction", sample_fraction, "must be in (0, 1]")
    need(channels is None or (len(channels) > 0 and all(isinstance(c, int) and 1 <= c <= 16 for c in channels)),
         "--channels", channels, "MIDI channels are 1..16 (10 = General MIDI drums)")
    need(max_offset_ms is None or (number(max_offset_ms) and max_offset_ms >= 0), "--max-offset-ms", max_offset_ms,
         "must be a number of milliseconds >= 0")
    try:
        shard_bytes = parse_bytes(shard_size)
    except ValueError as e:
        raise ValueError(f"--shard-size: {e}") from None
    need(shard_bytes > 0, "--shard-size", shard_size, "must be more than 0 bytes")
    try:
        from ..runtime import default_memory_limit_bytes
        return default_memory_limit_bytes() if memory_limit == "auto" else parse_bytes(memory_limit)
    except ValueError as e:
        raise ValueError(f"--memory-limit: {e}") from None


def build_config(*, layout, sample_rate_hz, class_map: ClassMap, channels, merge_ms, pad_before_s, clip_s,
                 codec, index_codec, flac_level, csv_tolerance_s, midi_tolerance_s, shard_size, csv_path,
                 splits, kits, drummers, sample_fraction, seed, limit, max_offset_ms=None, align=False,
                 dataset="egmd", choices=None) -> dict:
    """The options that shape the output, as the journal keeps them (JSON types)."""
    config = {
        "layout": layout, "sample_rate_hz": sample_rate_hz, "mapping": class_map.name,
        "classes": class_map.classes, "merge_ms": merge_ms, "pad_before_s": pad_before_s,
        "clip_s": clip_s, "codec": codec, "index_codec": index_codec, "flac_level": flac_level,
        "csv_tolerance_s": csv_tolerance_s, "midi_tolerance_s": midi_tolerance_s,
        "shard_bytes": parse_bytes(shard_size),
        "selection": {"csv": Path(csv_path).name if csv_path else None, "splits": splits, "kits": kits,
                      "drummers": drummers, "sample_fraction": sample_fraction, "seed": seed,
                      "limit": limit},
    }
    if channels:  # absent = all channels, so that journals written before the filter still match
        config["channels"] = sorted(set(channels))
    if max_offset_ms is not None:  # absent = report only (journals from before stay valid)
        config["max_offset_ms"] = max_offset_ms
    if align:
        config["align"] = True
    # E-GMD and plain pairs are what journals from before datasets were told apart hold: absent
    # for them, so those journals still match on --resume.
    if dataset not in ("egmd", "pairs"):
        config["dataset"] = dataset
    if choices:
        config["choices"] = dict(choices)
    return json.loads(json.dumps(config))  # the form it takes in the journal, for comparison


def journal_options(out: str | os.PathLike, root: str | os.PathLike) -> dict:
    """The :func:`prepare` keyword arguments that an existing output directory was prepared with
    (from its journal), so that ``--resume`` needs no options repeated."""
    header, _ = read_journal(Path(out) / JOURNAL)
    c = header["config"]
    sel = c.get("selection", {})
    mapping = c["mapping"] if c["mapping"] in BUILTIN else ClassMap(c["mapping"], [(n, list(p)) for n, p in c["classes"]])
    return {
        "csv": Path(root) / sel["csv"] if sel.get("csv") else None, "split": sel.get("splits"),
        "kits": sel.get("kits"), "drummers": sel.get("drummers"), "sample_fraction": sel.get("sample_fraction"),
        "seed": sel.get("seed", 0), "limit": sel.get("limit"), "layout": c["layout"],
        "sample_rate_hz": c["sample_rate_hz"], "mapping": mapping, "channels": c.get("channels"),
        "merge_ms": c["merge_ms"], "pad_before_s": c["pad_before_s"], "clip_s": c["clip_s"], "codec": c["codec"],
        "index_codec": c["index_codec"], "flac_level": c["flac_level"], "csv_tolerance_s": c["csv_tolerance_s"],
        "midi_tolerance_s": c["midi_tolerance_s"], "shard_size": c["shard_bytes"],
        "max_offset_ms": c.get("max_offset_ms"), "align": c.get("align", False),
        "dataset": c.get("dataset", "auto"), "audio": c.get("choices", {}).get("audio"),
    }


def _usual_mapping(root) -> str:
    """The class map a dataset is prepared with unless told (``--mapping auto``): its module's
    ``MAPPING``; E-GMD's gmd9 where ROOT cannot be read."""
    try:
        return datasets.MODULES[datasets.detect(Corpus(root))].MAPPING
    except (OSError, ValueError):
        return datasets.MODULES["egmd"].MAPPING


def prepare_config(root: str | os.PathLike, options: dict) -> dict:
    """The output-shaping options among :func:`prepare`'s keyword arguments, normalised as the
    journal keeps them (a mapping by its classes, a size in bytes), keyed by argument name: two
    sets of options give the same output exactly when these are equal."""
    o = DEFAULTS | options
    class_map = o["mapping"] if isinstance(o["mapping"], ClassMap) else load_class_map(
        _usual_mapping(root) if o["mapping"] == "auto" else o["mapping"])
    csv_path = o["csv"]
    c = build_config(layout=o["layout"], sample_rate_hz=o["sample_rate_hz"], class_map=class_map,
                     channels=o["channels"], merge_ms=o["merge_ms"], pad_before_s=o["pad_before_s"], clip_s=o["clip_s"],
                     codec=o["codec"], index_codec=o["index_codec"], flac_level=o["flac_level"],
                     csv_tolerance_s=o["csv_tolerance_s"], midi_tolerance_s=o["midi_tolerance_s"],
                     shard_size=o["shard_size"], csv_path=csv_path, splits=_listed(o["split"]),
                     kits=None if o["kits"] is None else [str(k) for k in _listed(o["kits"])],
                     drummers=_listed(o["drummers"]), sample_fraction=o["sample_fraction"], seed=o["seed"], limit=o["limit"],
                     max_offset_ms=o["max_offset_ms"], align=o["align"])
    sel = c.pop("selection")
    flat = {k: c[k] for k in ("layout", "sample_rate_hz", "merge_ms", "pad_before_s", "clip_s", "codec",
                              "index_codec", "flac_level", "csv_tolerance_s", "midi_tolerance_s")}
    flat |= {"mapping": [c["mapping"], c["classes"]], "shard_size": c["shard_bytes"], "channels": c.get("channels"),
             "split": sel["splits"], "kits": sel["kits"], "drummers": sel["drummers"],
             "sample_fraction": sel["sample_fraction"], "seed": sel["seed"], "limit": sel["limit"], "csv": sel["csv"],
             "max_offset_ms": c.get("max_offset_ms"), "align": c.get("align", False),
             "dataset": o.get("dataset", "auto"), "audio": o.get("audio")}
    return flat


def _write_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class _Totals:
    """What the consumer saw: for one shard (kept in its journal commit) or for one run."""

    def __init__(self) -> None:
        self.files = self.records = self.notes = self.unmapped = 0
        self.audio_s = 0.0
        self.unmapped_by_pitch: Counter = Counter()
        self.unmapped_labels: Counter = Counter()  # annotation labels with no GM pitch (ENST's sweep...)
        self.clips_by_codec: Counter = Counter()
        self.bytes_by_codec: Counter = Counter()
        self.notes_by_channel: Counter = Counter()
        self.channels_by_input: dict[str, dict] = {}  # pair_id -> {channel: notes}, for the manifest
        self.alignment_by_input: dict[str, list] = {}  # pair_id -> [kit, offset ms, peak ratio]
        self.dropped: Counter = Counter()  # records left out of a kept pair, by reason
        self.raw_bytes = 0
        self.rejects: Counter = Counter()
        self.warnings = 0
        self.cancelled = False

    def add_pair(self, s: dict, warnings: int, pair_id: str = "") -> None:
        self.files += 1
        if pair_id:
            self.channels_by_input[pair_id] = {str(k): v for k, v in s.get("notes_by_channel", {}).items()}
        self.records += s["onsets"]
        self.notes += s["notes"]
        self.audio_s += s["audio_s"]
        self.unmapped += s["unmapped_hits"]
        self.unmapped_by_pitch.update(s["unmapped_by_pitch"])
        self.unmapped_labels.update(s.get("unmapped_labels", {}))
        self.clips_by_codec.update(s["clips_by_codec"])
        self.bytes_by_codec.update(s["bytes_by_codec"])
        self.notes_by_channel.update(s.get("notes_by_channel", {}))
        if s.get("onsets_past_audio"):
            self.dropped["onset_past_audio"] += s["onsets_past_audio"]
        if s.get("onsets_before_audio"):  # moved before 0 s by --align
            self.dropped["onset_before_audio"] += s["onsets_before_audio"]
        self.raw_bytes += s["raw_float32_bytes"]
        self.warnings += warnings

    def to_json(self) -> dict:
        """The figures a journal commit keeps, so that the report can cover every run."""
        return {"files": self.files, "records": self.records, "notes": self.notes, "unmapped": self.unmapped,
                "audio_s": self.audio_s, "unmapped_by_pitch": {str(k): v for k, v in self.unmapped_by_pitch.items()},
                **({"unmapped_labels": dict(self.unmapped_labels)} if self.unmapped_labels else {}),
                "clips_by_codec": dict(self.clips_by_codec), "bytes_by_codec": dict(self.bytes_by_codec),
                "notes_by_channel": {str(k): v for k, v in self.notes_by_channel.items()},
                "dropped": dict(self.dropped), "raw_bytes": self.raw_bytes, "warnings": self.warnings,
                "channels_by_input": self.channels_by_input, "alignment_by_input": self.alignment_by_input}

    def add_json(self, d: dict) -> None:
        self.files += d.get("files", 0)
        self.records += d.get("records", 0)
        self.notes += d.get("notes", 0)
        self.unmapped += d.get("unmapped", 0)
        self.audio_s += d.get("audio_s", 0.0)
        self.unmapped_by_pitch.update({int(k): v for k, v in d.get("unmapped_by_pitch", {}).items()})
        self.unmapped_labels.update(d.get("unmapped_labels", {}))
        self.clips_by_codec.update(d.get("clips_by_codec", {}))
        self.bytes_by_codec.update(d.get("bytes_by_codec", {}))
        self.notes_by_channel.update({int(k): v for k, v in d.get("notes_by_channel", {}).items()})
        self.dropped.update(d.get("dropped", {}))
        self.raw_bytes += d.get("raw_bytes", 0)
        self.warnings += d.get("warnings", 0)


def _tables(pair: PairInput, result) -> dict[str, pa.Table]:
    m = pair.meta
    values = {"pair_id": pair.pair_id, "source_id": m.get("source_id", ""), "drummer": m.get("drummer", ""),
              "session": m.get("session", ""), "style": m.get("style", ""), "bpm": m.get("bpm", 0),
              "beat_type": m.get("beat_type", ""), "kit": m.get("kit_name", ""), "split": m.get("split", ""),
              DATASET_COLUMN: pair.dataset}

    def with_meta(batch, record_ids: bool) -> pa.Table:
        rb = pa.record_batch(batch)
        n = rb.num_rows
        cols = [pa.array([f"{pair.pair_id}#{k:05d}" for k in range(n)], pa.string())] if record_ids else []
        meta = (*PAIR_COLUMNS, DATASET_COLUMN)
        cols += [pa.array([values[c]] * n, pa.int16() if c == "bpm" else pa.string()) for c in meta]
        names = (["record_id"] if record_ids else []) + list(meta)
        return pa.Table.from_arrays(cols + rb.columns, names=names + rb.schema.names)

    if result.audio is None:
        return {"records": with_meta(result.records, True)}
    return {"onsets": with_meta(result.records, True), "audio": with_meta(result.audio, False)}


def _write_all(run, todo, store: Store, rejects: list[dict], totals: _Totals, job=None) -> None:
    shard, writers, shard_inputs, shard_bytes, unreleased = store.next_shard(), None, [], 0, []
    limit = store.config["shard_bytes"]
    in_shard = _Totals()
    try:
        for pair in todo:
            # After Ctrl-C, stop at once: results the workers already finished are not written
            # either (the resume redoes them), so an interrupt never waits for a whole shard.
            if job is not None and job.cancelled:
                totals.cancelled = True
                break
            try:
                result = run.next()
            except _core.Cancelled:
                totals.cancelled = True
                break
            s = result.stats
            if not result.ok:
                totals.warnings += len(result.warnings)
                in_shard.warnings += len(result.warnings)
                rejects.append({"pair_id": pair.pair_id, "reason": result.reject, "message": result.message})
                totals.rejects[result.reject] += 1
                alignment_mod.record(in_shard.alignment_by_input, pair.pair_id, pair.meta.get("kit_name", ""), s)
                continue
            tables = _tables(pair, result)
            if writers is None:
                writers = store.writer(shard, {k: t.schema for k, t in tables.items()})
            flushed = [writers[k].add(t) for k, t in tables.items()]
            unreleased.append(result)
            if any(flushed):  # written to disk: give the bytes back to the budget
                for r in unreleased:
                    r.release()
                unreleased = []
            shard_inputs.append(pair.pair_id)
            shard_bytes += sum(t.nbytes for t in tables.values())
            totals.add_pair(s, len(result.warnings))
            in_shard.add_pair(s, len(result.warnings), pair.pair_id)
            alignment_mod.record(in_shard.alignment_by_input, pair.pair_id, pair.meta.get("kit_name", ""), s)
            if shard_bytes >= limit:
                store.commit(shard, writers, shard_inputs, rejects, in_shard.to_json())
                shard, writers, shard_inputs, shard_bytes, in_shard = shard + 1, None, [], 0, _Totals()
                rejects.clear()
                for r in unreleased:
                    r.release()
                unreleased = []
            # Written: the pair's engine memory goes now, not after the next pair has arrived.
            del tables, result
        # The end, or a clean stop: commit what is whole (every input here is complete).
        if writers is not None:
            store.commit(shard, writers, shard_inputs, rejects, in_shard.to_json())
        elif rejects:
            store.commit(-1, {}, [], rejects, in_shard.to_json())
    except BaseException:
        if writers is not None:
            for w in writers.values():
                w.abort()
        raise


def _postfix(c: dict[str, int]) -> str:
    return f"{c.get('records', 0):,} records, {c.get('audio_ms', 0) / 3.6e6:.2f} h audio, {c.get('rejected', 0)} rejected"


def _report(store: Store, t: _Totals, job, wall_s: float, n_selected: int, n_todo: int, interrupted: bool,
            unpaired: list[str]) -> dict:
    """The report of the whole directory (every run's commits, from the journal), with each run
    (segment) listed: a resumed run no longer describes only its own part, and a run that had
    nothing left to do no longer replaces the figures with zeros."""
    whole = _Totals()
    for c in store.commits:
        whole.add_json(c.stats)
    rejected = Counter(r["reason"] for c in store.commits for r in c.rejects)
    out_bytes = sum(f["bytes"] for c in store.commits for f in c.files.values())
    records = sum(report_mod.records_in(c) for c in store.commits)
    stored = sum(whole.bytes_by_codec.values())
    segment = {
        "interrupted": interrupted or t.cancelled,
        "inputs_this_run": n_todo,
        "files_ok": t.files,
        "rejected": dict(t.rejects),
        "records": t.records,
        "audio_hours": t.audio_s / 3600,
        "wall_s": wall_s,
        "recovered": store.recovered,
    }
    return {
        "interrupted": segment["interrupted"],
        "inputs_selected": n_selected,
        "inputs_this_run": n_todo,
        "files_ok": sum(len(c.inputs) for c in store.commits),
        "rejected": dict(rejected),
        "records": records,
        "records_dropped": dict(whole.dropped),
        "notes": whole.notes,
        "channels": store.config.get("channels"),  # the --channels filter; None = all
        "notes_by_channel": {str(k): v for k, v in sorted(whole.notes_by_channel.items())},
        "unmapped_hits": whole.unmapped,
        "unmapped_by_pitch": {str(k): v for k, v in sorted(whole.unmapped_by_pitch.items())},
        # Labels of the dataset's annotation files with no GM pitch: no record, counted here.
        "unmapped_labels": {dataset_of(store.config): dict(sorted(whole.unmapped_labels.items()))}
        if whole.unmapped_labels else {},
        "midi_warnings": whole.warnings,
        "audio_hours": whole.audio_s / 3600,
        "unpaired_files": unpaired,
        "alignment": alignment_mod.summarize(store.commits, store.config.get("max_offset_ms"),
                                             store.config.get("align", False)),
        # Speed, memory and stages are this run's (they describe a process, not the directory).
        "wall_s": wall_s,
        "files_per_s": t.files / wall_s if wall_s else 0.0,
        "records_per_s": t.records / wall_s if wall_s else 0.0,
        "audio_s_per_s": t.audio_s / wall_s if wall_s else 0.0,
        "jobs": job.jobs,
        "stages_s": {name: round(sec, 4) for name, sec, _ in job.stages()},
        "memory_limit_bytes": job.memory_limit_bytes,
        "peak_reserved_bytes": job.peak_reserved_bytes,
        "memory_waits": job.memory_waits,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "codecs": {c: {"clips": whole.clips_by_codec[c], "bytes": whole.bytes_by_codec[c]}
                   for c in CODECS if whole.clips_by_codec[c]},
        "compression_ratio": stored / whole.raw_bytes if whole.raw_bytes else None,
        "output_bytes": out_bytes,
        "records_per_gb": records / (out_bytes / 1e9) if out_bytes else None,
        "recovered": store.recovered,
        "segments": report_mod.previous_segments(store.root) + [segment],
    }


def write_manifest(out: Path) -> dict:
    """Derive manifest.json and rejects.csv from the journal (the journal stays the truth)."""
    header, commits = read_journal(out / JOURNAL)
    shards = [{"shard": c.shard, "files": c.files, "inputs": len(c.inputs)} for c in commits if c.files]
    status = {i: {"status": "ok", "shard": c.shard} for c in commits for i in c.inputs}
    for c in commits:  # notes per MIDI channel of every input (what --channels kept or left out)
        for i, by_channel in c.stats.get("channels_by_input", {}).items():
            if i in status:
                status[i]["notes_by_channel"] = by_channel
    for c in commits:
        for r in c.rejects:
            status[r["pair_id"]] = {"status": "rejected", "reason": r["reason"]}
    for i, offset_ms in alignment_mod.by_input(commits).items():  # rejected pairs' too
        if i in status:
            status[i]["align_offset_ms"] = offset_ms
    manifest = {"format_version": header["version"], "config": header["config"], "shards": shards,
                "records": sum(report_mod.records_in(c) for c in commits), "inputs": status}
    _write_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    # The csv module quotes what needs quoting (commas, quotes such as "MThd", line breaks), and
    # UTF-8 keeps non-ASCII paths readable: any CSV reader gets the messages back as written.
    text = io.StringIO()
    writer = csv_mod.writer(text, lineterminator="\n")
    writer.writerow(["pair_id", "reason", "message"])
    writer.writerows([r["pair_id"], r["reason"], r["message"]] for c in commits for r in c.rejects)
    _write_atomic(out / "rejects.csv", text.getvalue())
    return manifest
