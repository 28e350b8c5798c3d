"""`cadence drums prepare`: MIDI + audio pairs to onset-aligned training records.

Data flow: ROOT opened as a Corpus (corpus.py: directory, zip or URI) -> its dataset's module
(datasets/) lists the pairs, inputs.py filters them -> an executor (executor.py: this machine,
or ray_executor.py: a cluster) runs the engine (``_core.PrepareRun``: parse, merge, decode,
resample, encode on all cores, results in input order) -> consumer.py adds each pair's metadata
columns and streams the records into Parquet shards through store.py, which commits each
finished shard to the journal -> a run report and a manifest are written at the end (and
re-derived from the journal on --resume).
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

from .. import _core
from .. import cluster
from ..atomic import atomic_path
from ..runtime import parse_bytes
from . import alignment as alignment_mod
from . import datasets
from . import inputs as inputs_mod
from . import kit_maps as kit_maps_mod
from .corpus import Corpus
from . import report as report_mod
from .class_maps import BUILTIN, ClassMap, load_class_map
from . import executor as executor_mod
from .consumer import Totals
from . import ray_executor
from .ray_executor import accepts_uris
from .store import JOURNAL, REPORT, Store, dataset_of, read_journal

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
            "align": _ENGINE["align"], "slakh_kit_map": None}


class NothingSelected(ValueError):
    """No input is left to prepare: the corpus holds no pairs, or the filters removed them all."""


@accepts_uris  # ROOT/OUT as s3://, gs://, file://... URIs with executor="ray" (ray_executor.py)
def prepare(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    dataset: str = "auto",
    audio: str | None = None,
    slakh_kit_map: str | None = None,
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
    slakh_kit_map
        Slakh only: ``"adtof"`` rewrites each drum stem's notes through ADTOF's table for its
        kit (``plugin_name``) before the class map (kit_maps.py); None: the notes as GM pitches.
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
    if slakh_kit_map is not None:
        kit_maps_mod.tables(slakh_kit_map)  # a ValueError naming the choices
    runner = executor_mod.make(executor, jobs=jobs, memory_limit=memory_limit, memory_limit_bytes=memory_limit_bytes,
                               ray_address=ray_address, unit_inputs=unit_inputs)
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
    unknown_kits = None
    if slakh_kit_map is not None:
        if listing.dataset != "slakh":
            raise ValueError(f"--slakh-kit-map is for Slakh2100's drum kits; ROOT is {listing.dataset}")
        selected, unknown_kits = kit_maps_mod.apply(selected, slakh_kit_map)
    class_map = mapping if isinstance(mapping, ClassMap) else load_class_map(
        datasets.MODULES[listing.dataset].MAPPING if mapping == "auto" else mapping)
    config = build_config(
        layout=layout, sample_rate_hz=sample_rate_hz, class_map=class_map, channels=channels,
        merge_ms=merge_ms, pad_before_s=pad_before_s, clip_s=clip_s, codec=codec, index_codec=index_codec,
        flac_level=flac_level, csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
        shard_size=shard_size, csv_path=csv_path, splits=split, kits=kits, drummers=filters["drummers"],
        sample_fraction=sample_fraction, seed=seed, limit=limit, max_offset_ms=max_offset_ms, align=align,
        dataset=listing.dataset, choices=listing.choices, slakh_kit_map=slakh_kit_map)
    unpaired = listing.unpaired(corpus)
    # Connected before OUT is created: a cluster that cannot be reached leaves nothing behind.
    with runner.connected():
        store = runner.open_store(out, config, resume=resume)
        done = store.done_ids
        todo = [p for p in selected if p.pair_id not in done]
        rejects = [{"pair_id": r.pair_id, "reason": r.reason, "message": r.message}
                   for r in pre_rejects if r.pair_id not in done]
        # Every input this directory is to hold, in the journal's terms (store.done_ids): a reader
        # compares it with the journal to tell a finished directory from one with inputs left.
        planned = len({p.pair_id for p in selected} | {r.pair_id for r in pre_rejects})
        report_mod.mark_running(out, planned)

        engine = dict(layout=layout, sample_rate_hz=sample_rate_hz, merge_s=merge_ms / 1e3,
                      pad_before_s=pad_before_s, clip_s=clip_s, codec=codec, index_codec=index_codec,
                      flac_level=flac_level, csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
                      map_name=class_map.name, classes=class_map.classes, channels=channels or [],
                      archive=corpus.archive,
                      max_offset_s=math.nan if max_offset_ms is None else max_offset_ms / 1e3, align=align)
        totals = Totals()
        totals.rejects.update(r["reason"] for r in rejects)
        interrupted = False
        try:
            runner.run(corpus, todo, rejects, store, engine, totals, show_progress=show_progress)
        except KeyboardInterrupt:
            interrupted = True
        except ConnectionError:  # a Ray cluster lost (drums/ray_executor.py): its message says what to do
            raise
        except OSError as e:  # a full disk, a vanished mount: the journal keeps what was committed
            # Only a full disk is blamed on space (another writer of OUT is refused before this: lock.py).
            fix = "Free some space" if e.errno in (errno.ENOSPC, errno.EDQUOT) else "Fix the cause"
            raise OSError(e.errno, f"{out}: {e.strerror or e} while writing a shard; the "
                          f"{len(store.commits)} committed commit(s) are kept and the half-written shard "
                          f"was removed. {fix}, then run the same command with --resume", str(out)) from e
    report = _report(store, totals, runner.job, time.perf_counter() - start, len(selected), len(todo), interrupted,
                     unpaired) | {"inputs_planned": planned} | runner.report_extra
    if slakh_kit_map is not None:  # drum stems whose kit the table lacks: their notes as GM
        report["slakh_kit_map"] = {"scheme": slakh_kit_map, "unknown_plugins": unknown_kits}
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
                 dataset="egmd", choices=None, slakh_kit_map=None) -> dict:
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
    if slakh_kit_map is not None:  # absent when off: journals from before still match
        config["slakh_kit_map"] = kit_maps_mod.config(slakh_kit_map)
    return json.loads(json.dumps(config))  # the form it takes in the journal, for comparison


def journal_options(out: str | os.PathLike, root: str | os.PathLike) -> dict | None:
    """The :func:`prepare` keyword arguments that an existing output directory was prepared with
    (from its journal), so that ``--resume`` needs no options repeated. OUT may be a URI (Ray):
    None when it holds no journal."""
    if cluster.is_uri(out):
        with ray_executor.fetched_journal(str(out)) as local:
            return None if local is None else journal_options(local, root)
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
        "slakh_kit_map": c.get("slakh_kit_map", {}).get("scheme"),
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
                     max_offset_ms=o["max_offset_ms"], align=o["align"], slakh_kit_map=o["slakh_kit_map"])
    sel = c.pop("selection")
    flat = {k: c[k] for k in ("layout", "sample_rate_hz", "merge_ms", "pad_before_s", "clip_s", "codec",
                              "index_codec", "flac_level", "csv_tolerance_s", "midi_tolerance_s")}
    flat |= {"mapping": [c["mapping"], c["classes"]], "shard_size": c["shard_bytes"], "channels": c.get("channels"),
             "split": sel["splits"], "kits": sel["kits"], "drummers": sel["drummers"],
             "sample_fraction": sel["sample_fraction"], "seed": sel["seed"], "limit": sel["limit"], "csv": sel["csv"],
             "max_offset_ms": c.get("max_offset_ms"), "align": c.get("align", False),
             "dataset": o.get("dataset", "auto"), "audio": o.get("audio"),
             "slakh_kit_map": c.get("slakh_kit_map", {}).get("scheme")}
    return flat


def _write_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _report(store: Store, t: Totals, job, wall_s: float, n_selected: int, n_todo: int, interrupted: bool,
            unpaired: list[str]) -> dict:
    """The report of the whole directory (every run's commits, from the journal), with each run
    (segment) listed: a resumed run no longer describes only its own part, and a run that had
    nothing left to do no longer replaces the figures with zeros."""
    whole = Totals()
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
