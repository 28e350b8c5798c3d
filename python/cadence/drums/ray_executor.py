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

import contextlib
import contextvars
import dataclasses
import functools
import json
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from .. import _core, cluster
from ..runtime import Progress, make_job
from .consumer import Totals, write_all
from .corpus import PairInput
from .store import JOURNAL, Commit, Store, shard_file

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
    ray = cluster.import_ray()
    start = time.perf_counter()
    spec = json.loads(spec_text)
    # A directory per attempt: a retried unit never writes over (or next to) a dead attempt's files.
    attempt = f"u{spec['unit']:06d}-{uuid.uuid4().hex[:12]}"
    pairs = [PairInput.from_json(p) for p in spec["pairs"]]
    corpus = spec["corpus"]
    if corpus["kind"] != "uri" and spec.get("units_uri") is None:
        inputs = [_engine_input(p, corpus["base"]) for p in pairs]
        return _prepare_local(spec, ray, pairs, inputs, Path(spec["units_dir"]) / attempt, start)
    # ROOT or OUT on a pyarrow filesystem: the unit's inputs are fetched to, and its shards
    # written in, a node-local directory; the shards then go to OUT under temporary names.
    local = cluster.node_tmp("unit")
    try:
        if corpus["kind"] == "uri":
            _fetch(pairs, corpus, local / "in")
            inputs = [_engine_input(p, str(local / "in")) for p in pairs]
        else:
            inputs = [_engine_input(p, corpus["base"]) for p in pairs]
        (local / "out").mkdir()
        summary = _prepare_local(spec, ray, pairs, inputs, local / "out", start, fetched=local / "in")
        if spec.get("units_uri") is not None:
            summary["dir"] = _uploaded(local / "out", summary["pieces"], spec["units_uri"], attempt)
        else:
            where = Path(spec["units_dir"]) / attempt
            where.mkdir()
            for piece in summary["pieces"]:
                for name in piece["files"]:
                    shutil.move(local / "out" / name, where / name)
            summary["dir"] = str(where)
        summary["wall_s"] = time.perf_counter() - start
        return json.dumps(summary)
    finally:
        shutil.rmtree(local, ignore_errors=True)


def _prepare_local(spec: dict, ray, pairs: list[PairInput], inputs: list, where: Path, start: float,
                   fetched: Path | None = None):
    """The engine on ``pairs`` (``inputs``: what it opens for each), shards into ``where``; the
    summary (JSON text, or a dict when ``fetched`` names where remote inputs were fetched to:
    their paths in reject messages are then put back as ROOT's URI)."""
    if fetched is None:
        where.mkdir()  # not parents: a late attempt of a finished run must not recreate the directory
        (where / "task.json").write_text(json.dumps({"unit": spec["unit"], "pid": os.getpid()}))
    threads, memory_limit_bytes, node = cluster.task_budget(ray, spec["memory_limit"])
    job = make_job(threads, memory_limit_bytes)
    engine = spec["engine"]
    run = _core.PrepareRun(inputs, job, **(engine | {"classes": [tuple(c) for c in engine["classes"]]}))
    store = _UnitStore(where, {"shard_bytes": spec["shard_bytes"]})
    totals, rejects = Totals(), []
    write_all(run, pairs, store, rejects, totals, job)
    pieces = [c.__dict__ for c in store.commits]
    if fetched is not None and spec["corpus"]["kind"] == "uri":
        named = spec["corpus"]["name"].rstrip("/")
        for piece in pieces:
            piece["rejects"] = [r | {"message": r["message"].replace(str(fetched), named)} for r in piece["rejects"]]
    summary = {
        "unit": spec["unit"], "dir": str(where), "node": node,
        "pieces": pieces, "totals": totals.to_json(),
        "rejected": dict(totals.rejects), "jobs": job.jobs, "memory_limit_bytes": job.memory_limit_bytes,
        "peak_reserved_bytes": job.peak_reserved_bytes, "memory_waits": job.memory_waits,
        "stages_s": {name: sec for name, sec, _ in job.stages()}, "wall_s": time.perf_counter() - start}
    return summary if fetched is not None else json.dumps(summary)


def _engine_input(p: PairInput, base: str):
    """What the engine opens for ``p`` when the corpus's files lie under ``base`` (a path every
    node sees, a zip's top folder, or where a task fetched them)."""
    return p.engine_input(lambda rel: os.path.join(base, rel) if base else rel)


def _fetch(pairs: list[PairInput], corpus: dict, into: Path) -> None:
    """The unit's annotation and audio files copied from ROOT's filesystem into ``into`` (same
    relative paths). A file ROOT does not have stays missing: the engine rejects the pair as a
    local run does."""
    fs, base = cluster.filesystem(corpus["name"])
    into.mkdir()
    for p in pairs:
        for rel in (*p.annotation_paths, *p.audio_paths):
            try:
                cluster.download(fs, f"{base.rstrip('/')}/{rel}", into / rel)
            except FileNotFoundError:
                pass


def _uploaded(local: Path, pieces: list[dict], units_uri: str, attempt: str) -> str:
    """The unit's shard files put under OUT's ``.ray-units/<attempt>/`` (temporary names, never
    read as part of the dataset); returns that directory's path on OUT's filesystem."""
    fs, units = cluster.filesystem(units_uri)
    import pyarrow.fs as pafs

    if fs.get_file_info(units).type == pafs.FileType.NotFound:  # the run is over: a late attempt
        raise RuntimeError(f"{units_uri} is gone: the run this unit belonged to has ended")
    where = f"{units.rstrip('/')}/{attempt}"
    for piece in pieces:
        for name in piece["files"]:
            cluster.upload(fs, local / name, f"{where}/{name}")
    return where


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


def prepare_units(ray, corpus, todo: list[PairInput], rejects: list[dict], store: Store, engine: dict, totals, *,
                  unit_inputs: int, memory_limit, show_progress: bool | None) -> tuple[ClusterJob, int, bool]:
    """Run ``todo`` as Ray tasks and commit their shards in input order into ``store``. ``rejects``
    (the CSV's, found before any work) go with the first commit, as in a local run. Returns
    (the cluster's figures for the report, the number of units, whether Ctrl-C stopped it)."""
    units = split_units(len(todo), unit_inputs)
    places = _PLACES.get()
    where = _UnitsDir(store, places)
    cpus, slots = cluster.task_cpus(ray)
    task = ray.remote(_prepare_unit).options(num_cpus=cpus, max_retries=cluster.UNIT_RETRIES,
                                              retry_exceptions=False)
    cjob = ClusterJob(slots, 0)
    pending = {}
    for k, (a, b) in enumerate(units):
        spec = {"unit": k, "units_dir": str(where.path), "pairs": [p.to_json() for p in todo[a:b]],
                "corpus": corpus.descriptor(), "engine": engine, "shard_bytes": store.config["shard_bytes"],
                "memory_limit": memory_limit, "units_uri": where.uri}
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
                where.remove(r["dir"])
                next_unit += 1
            progress.update(next_unit, len(units), f"{totals.records:,} records, {totals.audio_s / 3600:.2f} h audio, "
                            f"{sum(totals.rejects.values())} rejected")
        if carried:  # nothing was left to prepare, but the CSV had bad rows: commit them alone
            store.commit(-1, {}, [], carried, {})
    except BaseException as e:  # Ctrl-C or a failed unit: stop the rest
        cluster.stop_units(ray, [[ref] for ref in pending], 0 if isinstance(e, KeyboardInterrupt)
                           else cluster.STOP_GRACE_S)
        if not isinstance(e, KeyboardInterrupt):
            raise
        interrupted = True
        totals.cancelled = True
    finally:
        progress.close()
        where.remove()
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
    return shard_file(kind, shard, rest.partition(".")[2])


# ---- ROOT and OUT on a filesystem pyarrow knows (docs/scale-out.md) ----
#
# A remote ROOT is a Corpus on its filesystem (corpus.py): the driver lists it and reads its
# metadata there, each task fetches its own unit's files. A remote OUT is staged: the driver keeps the journal (and
# the report of an earlier run) in a local directory and puts each version of the journal whole
# on OUT after each commit; the tasks' shards reach OUT under .ray-units/, and a commit moves
# them to their names (a rename on a filesystem, copy + delete on an object store) before the
# journal that lists them is put.


@dataclasses.dataclass
class _Places:
    out_uri: str | None = None
    staging: Path | None = None


_PLACES: contextvars.ContextVar[_Places | None] = contextvars.ContextVar("cadence_drums_places", default=None)
#: What prepare writes besides the journal and the shards, put on a remote OUT when written.
_SIDE_FILES = ("manifest.json", "rejects.csv", "report.json")


class _UnitsDir:
    """OUT/.ray-units, on the local disk or on OUT's filesystem; emptied first (a dead run's
    attempts are never committed)."""

    def __init__(self, store: Store, places: _Places | None) -> None:
        self.fs = self.uri = None
        if places is not None and places.out_uri is not None and store.root == places.staging:
            self.uri = cluster.join_uri(places.out_uri, UNITS_DIR)
            self.fs, self.path = cluster.filesystem(self.uri)
            self.fs.delete_dir_contents(self.path, missing_dir_ok=True)
            self.fs.create_dir(self.path)
        else:
            self.path = store.root / UNITS_DIR
            shutil.rmtree(self.path, ignore_errors=True)
            self.path.mkdir()

    def remove(self, path=None) -> None:
        if self.fs is None:
            shutil.rmtree(path or self.path, ignore_errors=True)
            return
        try:
            self.fs.delete_dir(str(path or self.path))
        except FileNotFoundError:
            pass


def open_store(out: Path, config: dict, *, resume: bool) -> Store:
    """Store.open, or for a staged remote OUT a store that commits on OUT's filesystem."""
    places = _PLACES.get()
    if places is None or places.out_uri is None or out != places.staging:
        return Store.open(out, config, resume=resume)
    fs, base = cluster.filesystem(places.out_uri)
    remote = type("RemoteStore", (_RemoteStore,), {"fs": fs, "base": base.rstrip("/"), "uri": places.out_uri})
    return remote.open(out, config, resume=resume)


class _RemoteStore(Store):
    """A Store whose journal is kept in a local staging directory and put whole on OUT's
    filesystem after every change: there a commit is that one write (on S3/GCS, one PUT, which
    is atomic), made after the shard files it lists are at their names."""

    fs = None
    base = uri = ""

    def _put_journal(self) -> None:
        cluster.put_whole(self.fs, f"{self.base}/{JOURNAL}", (self.root / JOURNAL).read_bytes())

    def _append(self, entry: dict, create: bool = False) -> None:
        super()._append(entry, create)
        self._put_journal()

    def adopt(self, shard, files, inputs, rejects, stats=None) -> Commit:
        for name, (src, meta) in files.items():
            size = self.fs.get_file_info(str(src)).size
            if size != meta["bytes"]:
                raise OSError(f"{self.uri}: cannot commit {src} as {name}: it has {size} bytes, its writer "
                              f"wrote {meta['bytes']}")
        for name, (src, _) in files.items():
            self.fs.move(str(src), f"{self.base}/{name}")
        return self._commit_files(shard, {name: meta for name, (_, meta) in files.items()}, inputs, rejects, stats)

    # Committed files are checked by their size: reading every shard back from an object store
    # to hash it would cost the whole output's transfer.
    def _files(self) -> dict[str, int]:
        import pyarrow.fs as pafs

        return {i.base_name: i.size for i in self.fs.get_file_info(pafs.FileSelector(self.base))
                if i.type == pafs.FileType.File}

    def _file_problems(self, name: str, meta: dict, files: dict[str, int]) -> list[str]:
        if name not in files:
            return [f"{name} is missing"]
        if files[name] != meta["bytes"]:
            return [f"{name} has {files[name]} bytes, the journal says {meta['bytes']} (truncated?)"]
        return []

    def _delete(self, name: str) -> None:
        self.fs.delete_file(f"{self.base}/{name}")

    def _rewrite_journal(self) -> None:
        super()._rewrite_journal()
        self._put_journal()


def accepts_uris(prepare):
    """``prepare`` taking OUT as a URI of a filesystem pyarrow knows (with ``executor="ray"``;
    a URI ROOT is a :class:`Corpus` of its own); plain paths go straight to it, untouched."""

    @functools.wraps(prepare)
    def run(root, out, *args, **kw):
        if not (cluster.is_uri(root) or cluster.is_uri(out)):
            return prepare(root, out, *args, **kw)
        named = root if cluster.is_uri(root) else out
        if kw.get("executor", "local") != "ray":
            raise ValueError(f"{named}: ROOT or OUT as a URI goes with --ray (executor='ray'), whose tasks read "
                             f"and write it; a local run takes local paths")
        if not cluster.is_uri(out):
            return prepare(root, out, *args, **kw)
        with tempfile.TemporaryDirectory(prefix="cadence-uri-") as tmp:
            places = _Places(out_uri=out, staging=Path(tmp) / "out")
            before = _stage(out, places.staging)
            token = _PLACES.set(places)
            try:
                return prepare(root, places.staging, *args, **kw)
            except (OSError, ValueError) as e:
                raise _renamed(e, places) from None
            finally:
                _PLACES.reset(token)
                fs, base = cluster.filesystem(out)
                for name in _SIDE_FILES:
                    p = places.staging / name
                    if p.is_file() and p.read_bytes() != before.get(name):
                        cluster.put_whole(fs, f"{base.rstrip('/')}/{name}", p.read_bytes())

    return run


def _stage(out: str, staging: Path) -> dict[str, bytes]:
    """A local stand-in for OUT: its journal and report fetched (a resumed run reads them);
    OUT's other files are checked as a local OUT's are. Returns what was fetched."""
    import pyarrow.fs as pafs

    fs, base = cluster.filesystem(out)
    base = base.rstrip("/")
    staging.mkdir()
    info = fs.get_file_info(base)
    if info.type == pafs.FileType.File:
        raise FileExistsError(17, f"{out} is a file; choose a directory", out)
    names = {} if info.type == pafs.FileType.NotFound else {
        i.base_name: i for i in fs.get_file_info(pafs.FileSelector(base))}
    if JOURNAL not in names:
        if any(not n.startswith(".") for n in names):
            raise FileExistsError(17, f"{out} is not empty and holds no {JOURNAL}; choose an empty directory", out)
        return {}
    fetched = {}
    for name in (JOURNAL, "report.json"):
        if name in names:
            cluster.download(fs, f"{base}/{name}", staging / name)
            fetched[name] = (staging / name).read_bytes()
    return fetched


def _renamed(e: Exception, places: _Places) -> Exception:
    """``e`` with the local stand-ins of ROOT and OUT named by their URIs."""
    return cluster.renamed(e, {places.staging: places.out_uri})


@contextlib.contextmanager
def fetched_journal(out: str):
    """A local directory holding the journal of OUT given as a URI (None when it has none), for
    :func:`cadence.drums.journal_options`."""
    fs, base = cluster.filesystem(out)
    with tempfile.TemporaryDirectory(prefix="cadence-uri-") as tmp:
        try:
            cluster.download(fs, f"{base.rstrip('/')}/{JOURNAL}", Path(tmp) / JOURNAL)
        except FileNotFoundError:
            yield None
            return
        yield tmp


class RayExecutor:
    """prepare()'s work as Ray tasks (executor.py's signature): units of ``unit_inputs``
    consecutive inputs, each with a node's cores and its share of ``memory_limit``, committed
    here in input order."""

    name = "ray"

    def __init__(self, *, memory_limit, memory_limit_bytes: int, ray_address: str | None = None,
                 unit_inputs: int | None = None, **_) -> None:
        self.unit_inputs = UNIT_INPUTS if unit_inputs is None else unit_inputs
        split_units(0, self.unit_inputs)  # a bad --unit-inputs, said before anything is created
        cluster.import_ray()  # not installed: say so before anything is created
        self.memory_limit = memory_limit if memory_limit == "auto" else memory_limit_bytes
        self.address = ray_address
        self.job = None
        self.report_extra: dict = {}
        self._ray = None

    @contextlib.contextmanager
    def connected(self):
        ray, owned = cluster.connect(self.address)
        self._ray = ray
        try:
            yield self
        finally:
            cluster.disconnect(ray, owned)

    def open_store(self, out: Path, config: dict, *, resume: bool) -> Store:
        return open_store(out, config, resume=resume)

    def run(self, corpus, todo: list[PairInput], rejects: list[dict], store: Store, engine: dict, totals, *,
            show_progress: bool | None) -> None:
        self.job, n_units, interrupted = prepare_units(
            self._ray, corpus, todo, rejects, store, engine, totals, unit_inputs=self.unit_inputs,
            memory_limit=self.memory_limit, show_progress=show_progress)
        self.report_extra = {"executor": "ray", "units": n_units, "nodes": self.job.node_report()}
        if interrupted:
            raise KeyboardInterrupt
