"""`cadence drums prepare`: MIDI + audio pairs to onset-aligned training records.

Data flow: inputs.py finds and filters the pairs -> the engine (``_core.PrepareRun``) parses,
merges, decodes, resamples and encodes every pair on all cores and returns the results in
input order -> this module adds each pair's metadata columns and streams the records into
Parquet shards through store.py, which commits each finished shard to the journal -> a run
report and a manifest are written at the end (and re-derived from the journal on --resume).
"""

from __future__ import annotations

import json
import math
import os
import resource
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from .. import _core
from ..runtime import make_job, parse_bytes, run_job
from . import inputs as inputs_mod
from .class_maps import load_class_map
from .store import Store, read_journal

META_COLUMNS = ("pair_id", "source_id", "drummer", "session", "style", "bpm", "beat_type", "kit", "split")
CODECS = ("flac", "pcm16", "float16", "float32")


def prepare(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    csv: str | os.PathLike | None = None,
    splits: list[str] | None = None,
    kits: list[str] | None = None,
    drummers: list[str] | None = None,
    sample_fraction: float | None = None,
    seed: int = 0,
    limit: int | None = None,
    layout: str = "index",
    sample_rate_hz: int = 22050,
    mapping: str = "gmd9",
    merge_ms: float = 10.0,
    pad_before_s: float = 0.02,
    clip_s: float = 0.2,
    codec: str = "auto",
    index_codec: str = "flac",
    flac_level: int = 0,
    csv_tolerance_s: float = 1.0,
    midi_tolerance_s: float = 1.0,
    shard_size: str | int = "512M",
    jobs: int = 0,
    memory_limit: str | int | None = "auto",
    resume: bool = False,
    show_progress: bool | None = None,
) -> dict:
    """Prepare onset-aligned training records from MIDI + audio pairs.

    Parameters
    ----------
    root
        Dataset root: an E-GMD CSV in it (or ``csv``) lists the pairs; without one, every
        ``.mid``/``.midi`` is paired with the ``.wav``/``.flac`` of the same stem.
    out
        Output directory: Parquet shards, ``journal.jsonl``, ``manifest.json``,
        ``rejects.csv`` and ``report.json``.
    layout
        ``"index"`` (each file's audio once + an onset table; windows cut at read time) or
        ``"clips"`` (one record per onset holding its window, the seed pipeline's design).
    sample_rate_hz
        Output rate (libsoxr, high quality); 0 keeps each file's own rate.
    mapping
        ``gmd9``, ``magenta8``, ``magenta3``, ``adtof5``, ``raw``, or a JSON file
        ``{"class": [pitches...], ...}``.
    merge_ms
        Hits within this many milliseconds of a group's first hit form one record.
    pad_before_s, clip_s
        Clip window ``[onset - pad_before_s, onset - pad_before_s + clip_s]``, zero-padded.
    codec
        Clips: ``auto`` (the seed's size rule), ``flac``, ``pcm16``, ``float16``, ``float32``.
    memory_limit
        Bound on bytes in flight (``"4G"``; ``"auto"`` = half of RAM).
    resume
        Continue an interrupted run in ``out``: committed inputs are skipped, damaged or
        uncommitted shards are redone.

    Returns
    -------
    dict
        The run report (also written to ``out/report.json``).
    """
    start = time.perf_counter()
    root, out = Path(root), Path(out)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: dataset root not found")
    csv_path = Path(csv) if csv else inputs_mod.find_csv(root)
    pairs, pre_rejects = (inputs_mod.read_csv(root, csv_path) if csv_path else inputs_mod.scan_directory(root))
    selected = inputs_mod.select(pairs, splits=splits, kits=kits, drummers=drummers,
                                 sample_fraction=sample_fraction, seed=seed, limit=limit)
    class_map = load_class_map(mapping)
    config = {
        "layout": layout, "sample_rate_hz": sample_rate_hz, "mapping": class_map.name,
        "classes": class_map.classes, "merge_ms": merge_ms, "pad_before_s": pad_before_s,
        "clip_s": clip_s, "codec": codec, "index_codec": index_codec, "flac_level": flac_level,
        "csv_tolerance_s": csv_tolerance_s, "midi_tolerance_s": midi_tolerance_s,
        "shard_bytes": parse_bytes(shard_size),
        "selection": {"csv": csv_path.name if csv_path else None, "splits": splits, "kits": kits,
                      "drummers": drummers, "sample_fraction": sample_fraction, "seed": seed,
                      "limit": limit},
    }
    config = json.loads(json.dumps(config))  # the form it takes in the journal, for comparison
    store = Store.open(out, config, resume=resume)
    done = store.done_ids
    todo = [p for p in selected if p.pair_id not in done]
    rejects = [{"pair_id": r.pair_id, "reason": r.reason, "message": r.message}
               for r in pre_rejects if r.pair_id not in done]

    job = make_job(jobs, memory_limit)
    run = _core.PrepareRun(
        [(p.midi_path, p.audio_path, p.csv_duration_s) for p in todo], job, layout=layout,
        sample_rate_hz=sample_rate_hz, merge_s=merge_ms / 1e3, pad_before_s=pad_before_s,
        clip_s=clip_s, codec=codec, index_codec=index_codec, flac_level=flac_level,
        csv_tolerance_s=csv_tolerance_s, midi_tolerance_s=midi_tolerance_s,
        map_name=class_map.name, classes=class_map.classes)
    totals = _Totals()
    totals.rejects.update(r["reason"] for r in rejects)
    interrupted = False
    try:
        run_job(lambda: _write_all(run, todo, store, rejects, totals), job, desc="prepare",
                show_progress=show_progress, postfix=_postfix)
    except KeyboardInterrupt:
        interrupted = True
    except OSError as e:  # a full disk, a vanished mount: the journal keeps what was committed
        raise OSError(e.errno, f"{out}: {e.strerror or e} while writing a shard; the "
                      f"{len(store.commits)} committed commit(s) are kept and the half-written shard "
                      f"was removed. Free some space, then run the same command with --resume") from e
    report = _report(store, totals, job, time.perf_counter() - start, len(selected), len(todo), interrupted)
    write_manifest(out)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    if interrupted:
        raise KeyboardInterrupt
    return report


class _Totals:
    """What the consumer saw, for the report."""

    def __init__(self) -> None:
        self.files = self.records = self.notes = self.unmapped = 0
        self.audio_s = 0.0
        self.unmapped_by_pitch: Counter = Counter()
        self.clips_by_codec: Counter = Counter()
        self.bytes_by_codec: Counter = Counter()
        self.raw_bytes = 0
        self.rejects: Counter = Counter()
        self.warnings = 0
        self.cancelled = False


def _tables(pair: inputs_mod.PairInput, result) -> dict[str, pa.Table]:
    m = pair.meta
    values = {"pair_id": pair.pair_id, "source_id": m.get("source_id", ""), "drummer": m.get("drummer", ""),
              "session": m.get("session", ""), "style": m.get("style", ""), "bpm": m.get("bpm", 0),
              "beat_type": m.get("beat_type", ""), "kit": m.get("kit_name", ""), "split": m.get("split", "")}

    def with_meta(batch, record_ids: bool) -> pa.Table:
        rb = pa.record_batch(batch)
        n = rb.num_rows
        cols = [pa.array([f"{pair.pair_id}#{k:05d}" for k in range(n)], pa.string())] if record_ids else []
        cols += [pa.array([values[c]] * n, pa.int16() if c == "bpm" else pa.string()) for c in META_COLUMNS]
        names = (["record_id"] if record_ids else []) + list(META_COLUMNS)
        return pa.Table.from_arrays(cols + rb.columns, names=names + rb.schema.names)

    if result.audio is None:
        return {"records": with_meta(result.records, True)}
    return {"onsets": with_meta(result.records, True), "audio": with_meta(result.audio, False)}


def _write_all(run, todo, store: Store, rejects: list[dict], totals: _Totals) -> None:
    shard, writers, shard_inputs, shard_bytes, unreleased = store.next_shard(), None, [], 0, []
    limit = store.config["shard_bytes"]
    try:
        for pair in todo:
            try:
                result = run.next()
            except _core.Cancelled:
                totals.cancelled = True
                break
            s = result.stats
            totals.warnings += len(result.warnings)
            if not result.ok:
                rejects.append({"pair_id": pair.pair_id, "reason": result.reject, "message": result.message})
                totals.rejects[result.reject] += 1
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
            totals.files += 1
            totals.records += s["onsets"]
            totals.notes += s["notes"]
            totals.audio_s += s["audio_s"]
            totals.unmapped += s["unmapped_hits"]
            totals.unmapped_by_pitch.update(s["unmapped_by_pitch"])
            totals.clips_by_codec.update(s["clips_by_codec"])
            totals.bytes_by_codec.update(s["bytes_by_codec"])
            totals.raw_bytes += s["raw_float32_bytes"]
            if shard_bytes >= limit:
                store.commit(shard, writers, shard_inputs, rejects)
                shard, writers, shard_inputs, shard_bytes = shard + 1, None, [], 0
                rejects.clear()
                for r in unreleased:
                    r.release()
                unreleased = []
        # The end, or a clean stop: commit what is whole (every input here is complete).
        if writers is not None:
            store.commit(shard, writers, shard_inputs, rejects)
        elif rejects:
            store.commit(-1, {}, [], rejects)
    except BaseException:
        if writers is not None:
            for w in writers.values():
                w.abort()
        raise


def _postfix(c: dict[str, int]) -> str:
    return f"{c.get('records', 0):,} records, {c.get('audio_ms', 0) / 3.6e6:.2f} h audio, {c.get('rejected', 0)} rejected"


def _report(store: Store, t: _Totals, job, wall_s: float, n_selected: int, n_todo: int, interrupted: bool) -> dict:
    out_bytes = sum(f["bytes"] for c in store.commits for f in c.files.values())
    stored = sum(t.bytes_by_codec.values())
    return {
        "interrupted": interrupted or t.cancelled,
        "inputs_selected": n_selected,
        "inputs_this_run": n_todo,
        "files_ok": t.files,
        "rejected": dict(t.rejects),
        "records": t.records,
        "notes": t.notes,
        "unmapped_hits": t.unmapped,
        "unmapped_by_pitch": {str(k): v for k, v in sorted(t.unmapped_by_pitch.items())},
        "midi_warnings": t.warnings,
        "audio_hours": t.audio_s / 3600,
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
        "codecs": {c: {"clips": t.clips_by_codec[c], "bytes": t.bytes_by_codec[c]} for c in CODECS if t.clips_by_codec[c]},
        "compression_ratio": stored / t.raw_bytes if t.raw_bytes else None,
        "output_bytes": out_bytes,
        "records_per_gb": (sum(_records_in(c) for c in store.commits) / (out_bytes / 1e9)) if out_bytes else None,
        "recovered": store.recovered,
    }


def _records_in(commit) -> int:
    """Records in a commit (the clips or onsets file's rows)."""
    return sum(f["rows"] for name, f in commit.files.items() if not name.startswith("audio-"))


def write_manifest(out: Path) -> dict:
    """Derive manifest.json and rejects.csv from the journal (the journal stays the truth)."""
    header, commits = read_journal(out / "journal.jsonl")
    shards = [{"shard": c.shard, "files": c.files, "inputs": len(c.inputs)} for c in commits if c.files]
    status = {i: {"status": "ok", "shard": c.shard} for c in commits for i in c.inputs}
    for c in commits:
        for r in c.rejects:
            status[r["pair_id"]] = {"status": "rejected", "reason": r["reason"]}
    manifest = {"format_version": header["version"], "config": header["config"], "shards": shards,
                "records": sum(_records_in(c) for c in commits), "inputs": status}
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, out / "manifest.json")
    lines = ["pair_id,reason,message"] + [
        ",".join(json.dumps(str(x)) for x in (r["pair_id"], r["reason"], r["message"]))
        for c in commits for r in c.rejects]
    (out / ".rejects.csv.tmp").write_text("\n".join(lines) + "\n")
    os.replace(out / ".rejects.csv.tmp", out / "rejects.csv")
    return manifest


def format_report(r: dict) -> str:
    codecs = ", ".join(f"{c}: {v['clips']:,} ({v['bytes'] / 1e6:.1f} MB)" for c, v in r["codecs"].items())
    stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items())
    lines = [
        f"{'INTERRUPTED: ' if r['interrupted'] else ''}{r['files_ok']:,} files -> {r['records']:,} records "
        f"({r['audio_hours']:.3f} h audio) in {r['wall_s']:.1f} s",
        f"  speed          {r['files_per_s']:.1f} files/s, {r['records_per_s']:,.0f} records/s, "
        f"{r['audio_s_per_s']:,.0f}x realtime on {r['jobs']} jobs",
        f"  stages (cpu s) {stages}",
        f"  memory         peak reserved {r['peak_reserved_bytes'] / 2**20:.1f} MiB of "
        f"{r['memory_limit_bytes'] / 2**20:.0f} MiB limit ({r['memory_waits']} waits), "
        f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB",
        f"  stored audio   {codecs or '-'}; {r['compression_ratio'] or 0:.3f} of float32",
        f"  output         {r['output_bytes'] / 1e6:.1f} MB, "
        f"{r['records_per_gb'] or 0:,.0f} records/GB",
        f"  rejected       {sum(r['rejected'].values())} {r['rejected'] or ''}",
        f"  unmapped hits  {r['unmapped_hits']:,} {r['unmapped_by_pitch'] or ''}",
    ]
    lines += [f"  recovered      {x}" for x in r["recovered"]]
    return "\n".join(lines) + "\n"
