"""The consumer of a preparation: the engine's results, strictly in input order, become the
shards of a Store (a pair's records and audio as Arrow tables, committed when the shard is full)
and the figures of the run (:class:`Totals`). The same for a local run and for each Ray task
(executor.py, ray_executor.py), which is what makes their records equal."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from .. import _core
from . import alignment as alignment_mod
from .corpus import PairInput
from .store import DATASET_COLUMN, PAIR_COLUMNS, Store


class Totals:
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


def tables_of(pair: PairInput, result) -> dict[str, pa.Table]:
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


def write_all(run, todo, store: Store, rejects: list[dict], totals: Totals, job=None) -> None:
    shard, writers, shard_inputs, shard_bytes, unreleased = store.next_shard(), None, [], 0, []
    limit = store.config["shard_bytes"]
    in_shard = Totals()
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
            tables = tables_of(pair, result)
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
                shard, writers, shard_inputs, shard_bytes, in_shard = shard + 1, None, [], 0, Totals()
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


def postfix(c: dict[str, int]) -> str:
    return f"{c.get('records', 0):,} records, {c.get('audio_ms', 0) / 3.6e6:.2f} h audio, {c.get('rejected', 0)} rejected"
