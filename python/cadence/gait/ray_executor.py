"""``cadence gait features --ray``: the streamed features pass, its work units run as Ray tasks.

A unit is a range of file rows that holds whole subject x task groups: a group's rows, from its
first to its last (a group split into separate runs is one block, so that every task sees what
the whole-file index sees), never straddle two units. The cut comes from the cycle index the
driver built anyway, and depends only on the file and ``unit_rows``, not on the cluster.

A task reads only the Parquet row groups its rows lie in (a CSV is read up to its last row),
indexes its rows and runs the same engine pass as a local run, then renumbers what only the
whole file knows: ``row`` (a file row) and the subject and task codes (the file's dictionary).
It returns Arrow IPC bytes; the driver hands the batches to the local run's sink in unit order:
same rows, same order, the same bits.
"""

from __future__ import annotations

import base64
import contextvars
import copy
import io
import json
import shutil
import tempfile
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import cluster
from ..runtime import Progress, parse_bytes
from . import features as feat
from .outputs import companion
from .reader import FileIndex, GaitFile, NullValuesWarning, warn_nulls

#: Rows per unit unless told (4,000 cycles): a task holds its rows' keys and features in memory
#: (~4.8 MB per float64 feature), and a unit costs ~20 ms to schedule (bench/RESULTS.md, "Ray").
UNIT_ROWS = 600_000


def split_units(findex: FileIndex, unit_rows: int) -> list[tuple[int, int]]:
    """[first row, end row) of each unit: blocks of whole groups (first to last row of each
    group, overlapping groups merged), packed in file order until a unit has ``unit_rows``."""
    if not isinstance(unit_rows, int) or isinstance(unit_rows, bool) or unit_rows < 1:
        raise ValueError(f"unit_rows={unit_rows!r}: must be a whole number >= 1")
    runs = findex.runs
    n_groups = len(findex.groups["rows"])
    lo = np.full(n_groups, np.iinfo(np.int64).max, np.int64)
    hi = np.zeros(n_groups, np.int64)
    begin = runs["row_begin"].astype(np.int64)
    np.minimum.at(lo, runs["group"], begin)
    np.maximum.at(hi, runs["group"], begin + runs["rows"].astype(np.int64))
    units: list[tuple[int, int]] = []
    start = end = 0
    for a, b in sorted(zip(lo.tolist(), hi.tolist())):
        if a >= end and end - start >= unit_rows:  # a block boundary, and the unit is full
            units.append((start, end))
            start = end
        end = max(end, b)
    if end > start:
        units.append((start, end))
    return units


def _read_rows(gfile: GaitFile, start: int, end: int, names: list[str], source=None) -> pa.Table:
    """File rows [start, end) of these columns: only the row groups they lie in (of ``source``,
    a file opened on FILE's filesystem, when given)."""
    if gfile.file_type != "parquet":
        parts, at = [], 0
        for batch in gfile.iter_batches(names):
            a, b = max(start - at, 0), min(end - at, batch.num_rows)
            if b > a:
                parts.append(batch.slice(a, b - a))
            at += batch.num_rows
            if at >= end:
                break
        return pa.Table.from_batches(parts) if parts else pa.table({n: [] for n in names})
    pf = pq.ParquetFile(gfile.path if source is None else source)
    meta = pf.metadata
    first = 0
    groups, offset = [], None
    for i in range(meta.num_row_groups):
        n = meta.row_group(i).num_rows
        if first < end and first + n > start:
            groups.append(i)
            offset = first if offset is None else offset
        first += n
    table = pf.read_row_groups(groups, columns=names)
    return table.slice(start - offset, end - start)


def _recode(column: pa.ChunkedArray, local: list[str], file_names: list[str]) -> pa.ChunkedArray:
    """A dictionary column coded by the unit's names, recoded by the file's (the local run's)."""
    code = {n: i for i, n in enumerate(file_names)}
    mapping = np.array([code[n] for n in local], dtype=np.int32)
    dictionary = pa.array(file_names, pa.string())
    chunks = [pa.DictionaryArray.from_arrays(pa.array(mapping[c.indices.to_numpy(zero_copy_only=False)]
                                                      if len(c) else np.zeros(0, np.int32), pa.int32()),
                                             dictionary) for c in column.chunks]
    return pa.chunked_array(chunks, column.type)


def _features_unit(spec_text: str) -> tuple[bytes, str]:
    """Ray task: the features of one unit, as Arrow IPC stream bytes, and its figures as JSON."""
    ray = cluster.import_ray()
    start_s = time.perf_counter()
    spec = json.loads(spec_text)
    start, end = spec["rows"]
    if spec.get("uri") is None:
        gfile = GaitFile(spec["path"], spec["subject_col"], spec["task_col"], spec["phase_col"], spec["step_col"],
                         spec["file_type"])
        table = _read_rows(gfile, start, end, _unit_columns(gfile, spec["features"]))
    else:
        gfile, table = _read_remote(spec, start, end)
    names = spec["features"]
    rows = copy.copy(gfile)  # the same file, seen as the unit's rows only
    rows.iter_batches = lambda cols, batch_rows=feat.reader.DEFAULT_BATCH_ROWS, job=None, prefetch=False, **_: iter(
        table.select(cols).to_batches(max_chunksize=batch_rows))  # **_: how to read; the rows are read already
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the driver's index of the whole file said it already
        local = rows.build_index()
    with warnings.catch_warnings(record=True) as said:  # the pass's (null values): the driver repeats them
        warnings.simplefilter("always")
        sink = feat.TableSink()
        threads, memory_limit_bytes, node = cluster.task_budget(ray, spec["memory_limit"])
        run = feat.stream(rows, local, names, sink, nan_policy=spec["nan_policy"],
                          outlier_threshold=spec["outlier_threshold"],
                          outliers_among_valid=spec["outliers_among_valid"], fail_flags=spec["fail_flags"],
                          jobs=threads, memory_limit=memory_limit_bytes, show_progress=False,
                          table=table.select(names))
    out = sink.table(names, spec["fail_flags"])
    i = out.schema.get_field_index("row")  # file rows; the field (not null) as the engine made it
    out = out.set_column(i, out.schema.field(i), pc.add(out.column("row"), pa.scalar(start, pa.int64())))
    for col, local_names, file_names in (("subject", local.subject_names, spec["subject_names"]),
                                         ("task", local.task_names, spec["task_names"])):
        i = out.schema.get_field_index(col)
        out = out.set_column(i, out.schema.field(i), _recode(out.column(col), local_names, file_names))
    sinkbuf = io.BytesIO()
    with pa.ipc.new_stream(sinkbuf, out.schema) as w:
        w.write_table(out)
    figures = {"cycles": run.cycles, "rows": end - start, "node": node, "jobs": threads,
               "peak_reserved_bytes": run.peak_reserved_bytes, "memory_waits": run.memory_waits,
               "stages_s": {name: sec for name, sec, _ in run.stages}, "wall_s": time.perf_counter() - start_s,
               "warnings": list(dict.fromkeys(str(w.message) for w in said
                                              if not isinstance(w.message, NullValuesWarning))),
               "null_columns": sorted({c for w in said if isinstance(w.message, NullValuesWarning)
                                       for c in w.message.columns})}
    return sinkbuf.getvalue(), json.dumps(figures)


def _unit_columns(gfile: GaitFile, names: list[str]) -> list[str]:
    keys = [c for c in (gfile.subject_col, gfile.task_col, gfile.step_col, gfile.condition_col, gfile.phase_col)
            if c and c in gfile.columns]
    return list(dict.fromkeys(keys + names))


def _read_remote(spec: dict, start: int, end: int) -> tuple[GaitFile, pa.Table]:
    """FILE on a pyarrow filesystem: a Parquet file's row groups read from it in place (the
    driver sent its schema); a CSV fetched to a node-local directory first (it has no row
    groups to pick). The GaitFile keeps the driver's path, so that messages name the same file."""
    fs, path = cluster.filesystem(spec["uri"])
    if spec["file_type"] == "parquet":
        schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(spec["schema"])))
        # FILE is not on this node's disk: its fields as the driver read them
        gfile = GaitFile.from_schema(spec["path"], schema, spec["num_rows"], subject_col=spec["subject_col"],
                                     task_col=spec["task_col"], phase_col=spec["phase_col"],
                                     step_col=spec["step_col"])
        with fs.open_input_file(path) as f:
            return gfile, _read_rows(gfile, start, end, _unit_columns(gfile, spec["features"]), source=f)
    local = cluster.node_tmp("gait")
    try:
        copy_path = local / PurePosixPath(path).name
        cluster.download(fs, path, copy_path)
        gfile = GaitFile(copy_path, spec["subject_col"], spec["task_col"], spec["phase_col"], spec["step_col"],
                         spec["file_type"])
        table = _read_rows(gfile, start, end, _unit_columns(gfile, spec["features"]))
        gfile.path = Path(spec["path"])
        return gfile, table
    finally:
        shutil.rmtree(local, ignore_errors=True)


def stream(gfile: GaitFile, findex: FileIndex, features: list[str], sink, *, nan_policy: str = "propagate",
           outlier_threshold: float = 2.0, outliers_among_valid: bool = True, fail_flags: bool = False,
           memory_limit: str | int | None = "auto", show_progress: bool | None = None,
           ray_address: str | None = None, unit_rows: int | None = None, **_local_only) -> feat.FeatureRun:
    """:func:`cadence.gait.features.stream` on a Ray cluster: the batches reach ``sink`` in file
    order, as from a local pass. ``jobs`` and ``table`` (local-run settings) are not used: a task
    has the CPUs Ray gives it and reads its own rows."""
    gfile.check_float_columns(features)
    feat.nan_policy_code(nan_policy)
    units = split_units(findex, UNIT_ROWS if unit_rows is None else unit_rows)
    base = {"path": str(gfile.path), "subject_col": gfile.subject_col, "task_col": gfile.task_col,
            "phase_col": gfile.phase_col, "step_col": gfile.step_col, "file_type": gfile.file_type,
            "features": features, "nan_policy": nan_policy, "outlier_threshold": float(outlier_threshold),
            "outliers_among_valid": bool(outliers_among_valid), "fail_flags": bool(fail_flags),
            "memory_limit": memory_limit if memory_limit in ("auto", None) else parse_bytes(memory_limit),
            "subject_names": findex.subject_names, "task_names": findex.task_names}
    uri = _SOURCES.get().get(str(gfile.path))
    if uri is not None:  # FILE on a pyarrow filesystem (staged_input): the tasks read it there
        base |= {"uri": uri, "num_rows": gfile.num_rows,
                 "schema": base64.b64encode(pa.schema([pa.field(n, t) for n, t in gfile.types.items()])
                                            .serialize().to_pybytes()).decode()}
    with cluster.connected(ray_address) as ray:
        # One CPU a task when there are units enough to fill the cluster: reading a unit's row
        # groups and the engine pass alternate within a task, so a node runs as many units at
        # once as it has cores (bench/RESULTS.md, "Ray"); fewer units get more CPUs each.
        node_cpus, cluster_cpus = cluster.task_cpus(ray)
        cpus = max(1, min(node_cpus, cluster_cpus // max(len(units), 1)))
        task = ray.remote(_features_unit).options(num_cpus=cpus, num_returns=2,
                                                   max_retries=cluster.UNIT_RETRIES, retry_exceptions=False)
        refs = [task.remote(json.dumps(base | {"rows": [a, b]})) for a, b in units]
        cycles, waits, peak, rows_done = 0, 0, 0, 0
        warned: set[str] = set()
        nulls: set[str] = set()  # columns with null values in any unit: one warning, as a local pass
        stages: Counter = Counter()
        with Progress("cycle features", "row", show_progress) as progress:
            current = 0  # the unit being read: the ones before it are done with
            try:
                for current, ((a, b), (data_ref, fig_ref)) in enumerate(zip(units, refs)):  # in file order
                    data, figures = _result(ray, data_ref, gfile, a, b), json.loads(_result(ray, fig_ref, gfile, a, b))
                    for batch in pa.ipc.open_stream(data):
                        if batch.num_rows:
                            sink(batch)
                    for text in figures["warnings"]:
                        if text not in warned:  # once per run, not once per unit
                            warned.add(text)
                            warnings.warn(text, UserWarning, stacklevel=2)
                    nulls.update(figures["null_columns"])
                    cycles += figures["cycles"]
                    waits += figures["memory_waits"]
                    peak = max(peak, figures["peak_reserved_bytes"])
                    stages.update(figures["stages_s"])
                    rows_done += b - a
                    progress.update(rows_done, findex.index.rows, f"{cycles:,} cycles, {len(units)} units")
            except BaseException as e:  # Ctrl-C or a failed unit: stop the rest
                cluster.stop_units(ray, [[fig_ref, data_ref] for data_ref, fig_ref in refs[current:]],
                                   0 if isinstance(e, KeyboardInterrupt) else cluster.STOP_GRACE_S)
                raise
    warn_nulls(nulls)
    # No range checks in this pass (validation runs locally): no range failures.
    return feat.FeatureRun(cycles, pa.table({}), peak, waits, [(k, v, 0) for k, v in stages.items()])


def _result(ray, ref, gfile: GaitFile, a: int, b: int):
    """A task's result, or its error as the local run raises it (a ValueError stays one)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, (ValueError, OSError)):
            raise type(cause)(*cause.args) from None
        raise RuntimeError(f"{gfile.path}: rows {a}..{b} failed on the cluster: {cause or e}") from None
    except ray.exceptions.RayError as e:
        raise ConnectionError(f"{gfile.path}: rows {a}..{b} could not be run on the cluster ({type(e).__name__}); "
                              f"run the command again") from None


# ---- FILE and OUT on a filesystem pyarrow knows (docs/scale-out.md) ----

#: The driver's local copies of FILEs given as URIs -> the URI (the tasks read the URI).
_SOURCES: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("cadence_gait_sources", default={})


@contextmanager
def staged_input(file):
    """``file`` as a local path: a URI's file is fetched once for the driver (which indexes it
    as a local run does); the Ray tasks of :func:`stream` read their row groups from the URI
    itself. Errors raised inside name the URI, not the copy. A plain path is yielded as it is."""
    if not cluster.is_uri(file):
        yield file
        return
    import pyarrow.fs as pafs

    fs, path = cluster.filesystem(file)
    if fs.get_file_info(path).type != pafs.FileType.File:
        raise FileNotFoundError(2, f"{file}: no such file; check the path", file)
    with tempfile.TemporaryDirectory(prefix="cadence-uri-") as tmp:
        local = Path(tmp) / PurePosixPath(path).name
        cluster.download(fs, path, local)
        token = _SOURCES.set(_SOURCES.get() | {str(local): file})
        try:
            yield local
        except Exception as e:  # noqa: BLE001 - re-raised, naming the URI
            raise cluster.renamed(e, {local: file}) from None
        finally:
            _SOURCES.reset(token)


@contextmanager
def staged_output(path, companions: tuple[str, ...] = ()):
    """A local path to write ``path`` at: for a URI, a temporary directory's, whose files are put
    on the URI's filesystem when the block ends without error (the named file last, each whole:
    one upload on an object store, a rename elsewhere); ``companions`` (suffixes such as
    ``.drops.csv``) not written there are removed from beside the URI, as a local run removes an
    earlier run's. A plain path (or None) is yielded as it is."""
    if not cluster.is_uri(path):
        yield path
        return
    import pyarrow.fs as pafs

    fs, dst = cluster.filesystem(path)
    if fs.get_file_info(dst).type == pafs.FileType.Directory:
        raise IsADirectoryError(21, f"{path} is a directory; give a file name ending in .parquet or .npy", path)
    folder, _, name = dst.rpartition("/")
    with tempfile.TemporaryDirectory(prefix="cadence-uri-") as tmp:
        local = Path(tmp) / name
        try:
            yield local
        except Exception as e:  # noqa: BLE001 - re-raised, naming the URI
            raise cluster.renamed(e, {local: path}) from None
        written = sorted(p for p in Path(tmp).iterdir() if p.is_file() and p != local)
        for p in written + [local]:
            cluster.put_file(fs, p, f"{folder}/{p.name}")
        for suffix in companions:
            other = str(companion(PurePosixPath(dst), suffix))
            if not (Path(tmp) / PurePosixPath(other).name).exists() and \
                    fs.get_file_info(other).type == pafs.FileType.File:
                fs.delete_file(other)


def cycle_features(file, features: list[str] | None = None, *, output: str = "arrow", path=None,
                   loco_options: dict | None = None, **kw):
    """``LocomotionData(file, **loco_options).cycle_features(features, output=output, path=path,
    executor="ray", **kw)`` where ``file`` and ``path`` may be URIs of a filesystem pyarrow knows
    (``s3://bucket/gait.parquet``, ``gs://...``, ``file:///...``). Returns what cycle_features
    returns; for 'parquet' and 'npy', ``path`` as given."""
    from . import LocomotionData

    with staged_input(file) as local, staged_output(path) as out:
        loco = LocomotionData(local, **(loco_options or {}))
        result = loco.cycle_features(features, output=output, path=out, executor="ray", **kw)
    return path if output in ("parquet", "npy") and cluster.is_uri(path) else result
