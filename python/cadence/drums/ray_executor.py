"""`cadence drums prepare --ray`: the same preparation, its work units run as Ray tasks.

The inputs left to prepare are cut into units of consecutive inputs (the cut depends only on
the input list and ``unit_inputs``, never on the cluster). A task runs the engine on its unit
with the cores Ray gave it and its share of the node's memory budget, and writes the unit's
shards, exactly as a local run writes them, into a directory of its own under
``OUT/.ray-units/``. It returns a JSON summary: the files (rows, bytes, SHA-256), the inputs
and rejects of each shard, the figures, its stage timers.

The driver alone touches the journal. It commits the units strictly in input order: each of a
unit's shards is renamed to the next shard number and its commit line appended, as a local run
does, so the records (ids, labels, audio bytes) are those of a local run for any cluster size.
A task whose worker dies is retried by Ray in a fresh directory; files of a dead attempt are
never renamed and go when the run ends (or when it is resumed). A killed driver leaves only
committed shards in the journal: ``--resume`` continues like a local run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections import Counter
from pathlib import Path

from .. import _core, cluster
from ..runtime import Progress, make_job
from .inputs import PairInput
from .store import Commit, Store

#: Directory of the units' files under OUT (removed when the run ends, and on --resume).
UNITS_DIR = ".ray-units"
#: Inputs per unit unless told: a unit costs ~10-20 ms to schedule and commit (bench/RESULTS.md,
#: "Ray"), against ~30 ms of one core per E-GMD input (35 s of audio at ~1,150x realtime), so 64
#: inputs keep it under ~10 % on a 16-core node; and a whole unit is redone when its worker dies.
UNIT_INPUTS = 64


def split_units(n: int, unit_inputs: int) -> list[tuple[int, int]]:
    """[start, end) of each unit of consecutive inputs."""
    if not isinstance(unit_inputs, int) or isinstance(unit_inputs, bool) or unit_inputs < 1:
        raise ValueError(f"--unit-inputs {unit_inputs!r}: must be a whole number >= 1")
    return [(a, min(a + unit_inputs, n)) for a in range(0, n, unit_inputs)]


class _UnitStore(Store):
    """A task's shards: written like a local run's, but "committed" into the task's summary, for
    the driver to commit. Shards are numbered 0, 1... within the unit."""

    def commit(self, shard, writers, inputs, rejects, stats=None) -> Commit:
        files = {name: meta for w in writers.values() for name, meta in w.close_files().items()}
        c = Commit(shard, files, list(inputs), list(rejects), dict(stats or {}))  # the caller clears its lists
        self.commits.append(c)
        return c


def _prepare_unit(spec_text: str) -> str:
    """Ray task: prepare one unit into a fresh directory; returns its summary as JSON text."""
    from .prepare import _Totals, _write_all

    ray = cluster.import_ray()
    start = time.perf_counter()
    spec = json.loads(spec_text)
    # A directory per attempt: a retried unit never writes over (or next to) a dead attempt's files.
    where = Path(spec["units_dir"]) / f"u{spec['unit']:06d}-{uuid.uuid4().hex[:12]}"
    where.mkdir()  # not parents: a late attempt of a finished run must not recreate the directory
    (where / "task.json").write_text(json.dumps({"unit": spec["unit"], "pid": os.getpid()}))
    threads, memory_limit_bytes, node = cluster.task_budget(ray, spec["memory_limit"])
    job = make_job(threads, memory_limit_bytes)
    pairs = [PairInput(p["pair_id"], p["midi"], p["audio"], p["csv_duration_s"], p["meta"]) for p in spec["pairs"]]
    engine = spec["engine"]
    run = _core.PrepareRun([(p.midi_path, p.audio_path, p.csv_duration_s) for p in pairs], job,
                           **(engine | {"classes": [tuple(c) for c in engine["classes"]]}))
    store = _UnitStore(where, {"shard_bytes": spec["shard_bytes"]})
    totals, rejects = _Totals(), []
    _write_all(run, pairs, store, rejects, totals, job)
    return json.dumps({
        "unit": spec["unit"], "dir": str(where), "node": node,
        "pieces": [c.__dict__ for c in store.commits], "totals": totals.to_json(),
        "rejected": dict(totals.rejects), "jobs": job.jobs, "memory_limit_bytes": job.memory_limit_bytes,
        "peak_reserved_bytes": job.peak_reserved_bytes, "memory_waits": job.memory_waits,
        "stages_s": {name: sec for name, sec, _ in job.stages()}, "wall_s": time.perf_counter() - start})


def _pair_json(p: PairInput) -> dict:
    return {"pair_id": p.pair_id, "midi": p.midi_path, "audio": p.audio_path, "csv_duration_s": p.csv_duration_s,
            "meta": p.meta}


class ClusterJob:
    """What the report reads from a local run's job, summed over the tasks, plus each node's."""

    def __init__(self, slots: int, memory_limit_bytes: int) -> None:
        self.jobs, self.memory_limit_bytes = slots, memory_limit_bytes
        self.peak_reserved_bytes = self.memory_waits = 0
        self.stages_s: Counter = Counter()
        self.nodes: dict[str, dict] = {}

    def add(self, r: dict) -> None:
        self.peak_reserved_bytes = max(self.peak_reserved_bytes, r["peak_reserved_bytes"])
        self.memory_waits += r["memory_waits"]
        self.memory_limit_bytes = r["memory_limit_bytes"]
        self.stages_s.update(r["stages_s"])
        n = self.nodes.setdefault(r["node"], {"units": 0, "inputs": 0, "records": 0, "audio_hours": 0.0,
                                              "task_s": 0.0, "jobs": r["jobs"], "peak_reserved_bytes": 0,
                                              "memory_waits": 0, "stages_s": Counter()})
        n["units"] += 1
        n["inputs"] += r["totals"]["files"] + sum(r["rejected"].values())
        n["records"] += r["totals"]["records"]
        n["audio_hours"] += r["totals"]["audio_s"] / 3600
        n["task_s"] += r["wall_s"]
        n["peak_reserved_bytes"] = max(n["peak_reserved_bytes"], r["peak_reserved_bytes"])
        n["memory_waits"] += r["memory_waits"]
        n["stages_s"].update(r["stages_s"])

    def stages(self) -> list[tuple[str, float, int]]:
        return [(k, v, 0) for k, v in self.stages_s.items()]

    def node_report(self) -> dict:
        return {k: v | {"stages_s": {s: round(t, 4) for s, t in v["stages_s"].items()},
                        "task_s": round(v["task_s"], 4)} for k, v in sorted(self.nodes.items())}


def prepare_units(ray, todo: list[PairInput], rejects: list[dict], store: Store, engine: dict, totals, *,
                  unit_inputs: int, memory_limit, show_progress: bool | None) -> tuple[ClusterJob, int, bool]:
    """Run ``todo`` as Ray tasks and commit their shards in input order into ``store``. ``rejects``
    (the CSV's, found before any work) go with the first commit, as in a local run. Returns
    (the cluster's figures for the report, the number of units, whether Ctrl-C stopped it)."""
    units = split_units(len(todo), unit_inputs)
    units_dir = store.root / UNITS_DIR
    shutil.rmtree(units_dir, ignore_errors=True)  # a dead run's attempts: never committed
    units_dir.mkdir()
    cpus, slots = cluster.task_cpus(ray)
    task = ray.remote(_prepare_unit).options(num_cpus=cpus, max_retries=cluster.UNIT_RETRIES,
                                              retry_exceptions=False)
    cjob = ClusterJob(slots, 0)
    pending = {}
    for k, (a, b) in enumerate(units):
        spec = {"unit": k, "units_dir": str(units_dir), "pairs": [_pair_json(p) for p in todo[a:b]],
                "engine": engine, "shard_bytes": store.config["shard_bytes"], "memory_limit": memory_limit}
        pending[task.remote(json.dumps(spec))] = k
    done: dict[int, dict] = {}
    next_unit, interrupted = 0, False
    carried = list(rejects)  # committed with the first commit, like a local run's
    progress = Progress("prepare", "unit", show_progress)
    try:
        while next_unit < len(units):
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            for ref in ready:
                k = pending.pop(ref)
                done[k] = json.loads(_result(ray, ref, units[k], todo))
            while next_unit in done:
                r = done.pop(next_unit)
                carried = _commit_unit(store, r, carried)
                cjob.add(r)
                totals.add_json(r["totals"])
                totals.rejects.update(r["rejected"])
                shutil.rmtree(r["dir"], ignore_errors=True)
                next_unit += 1
            progress.update(next_unit, len(units), f"{totals.records:,} records, {totals.audio_s / 3600:.2f} h audio, "
                            f"{sum(totals.rejects.values())} rejected")
        if carried:  # nothing was left to prepare, but the CSV had bad rows: commit them alone
            store.commit(-1, {}, [], carried, {})
    except KeyboardInterrupt:
        interrupted = True
        totals.cancelled = True
    finally:
        for ref in pending:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001 - a cluster already gone (Ctrl-C reaches a local one too)
                break
        progress.close()
        shutil.rmtree(units_dir, ignore_errors=True)
    return cjob, len(units), interrupted


def _result(ray, ref, unit: tuple[int, int], todo: list[PairInput]) -> str:
    """A task's summary, or the error that stopped it, naming its inputs."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = e.cause if isinstance(getattr(e, "cause", None), BaseException) else None
        first, last = todo[unit[0]].pair_id, todo[unit[1] - 1].pair_id
        if isinstance(cause, OSError):
            raise OSError(cause.errno, f"{cause.strerror or cause} (unit of inputs {first} .. {last})",
                          cause.filename) from None
        raise RuntimeError(f"the unit of inputs {first} .. {last} failed on the cluster: {cause or e}") from None
    except ray.exceptions.RayError as e:  # worker or node lost more often than the retries allow
        first, last = todo[unit[0]].pair_id, todo[unit[1] - 1].pair_id
        raise ConnectionError(f"the unit of inputs {first} .. {last} could not be run ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''}); the committed units are kept: "
                           f"run the same command with --resume") from None


def _commit_unit(store: Store, r: dict, carried: list[dict]) -> list[dict]:
    """Rename a unit's shards to the next shard numbers and commit them, in order. Returns the
    rejects still to carry into a later commit."""
    unit_dir = Path(r["dir"])
    for piece in r["pieces"]:
        rejects = carried + piece["rejects"]
        carried = []
        if not piece["files"]:
            store.commit(-1, {}, [], rejects, piece["stats"])
            continue
        shard = store.next_shard()
        files = {_renumbered(name, shard): (unit_dir / name, meta) for name, meta in piece["files"].items()}
        store.adopt(shard, files, piece["inputs"], rejects, piece["stats"])
    return carried


def _renumbered(name: str, shard: int) -> str:
    """``onsets-00000.parquet`` -> ``onsets-<shard>.parquet`` (the unit numbers its shards from 0)."""
    kind, _, rest = name.partition("-")
    suffix = rest.partition(".")[2]
    return f"{kind}-{shard:05d}.{suffix}"
