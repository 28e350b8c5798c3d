"""Reading a file's columns batch by batch for the cycle engine, each batch reserved from the job's
memory budget before it is read, and optionally read one batch ahead on a helper thread.

A read is a *step*: the bytes it will hold (known before reading, so they can be reserved first)
and a function that reads it (returning None at the end of the file).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import _core
from .loading import csv_read_options

Step = tuple[int, Callable[[], "pa.RecordBatch | None"]]


def by_row_groups(rows: list[int], batch_rows: int) -> bool:
    """Whether a Parquet file with row groups of `rows` rows is read by whole row groups: when
    none holds more than two batches' rows.

    Why: pyarrow then sizes each column buffer once. iter_batches grows its buffers by
    reallocation within every batch, and the allocator hands back fresh pages each time: twice
    the page faults on a UMich-scale file (47k against 20k per pass, ~0.1 s of kernel time)."""
    return bool(rows) and max(rows) <= 2 * batch_rows


def parquet_steps(path: Path, names: list[str], batch_rows: int, row_bytes: int, threads: bool = True,
                  dictionary: tuple[str, ...] = ()) -> Iterator[Step]:
    """Whole row groups (see by_row_groups), else batches of batch_rows; ``threads``: columns
    decoded on pyarrow's pool (a one-thread job decodes on its own thread); ``dictionary``: text
    columns read as the file stores them, dictionary-encoded (no strings built, then encoded)."""
    pf = pq.ParquetFile(path, pre_buffer=False, memory_map=True,  # decoded from the page cache: no copy
                        read_dictionary=list(dictionary) or None)
    rows = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
    if by_row_groups(rows, batch_rows):
        # Every read reserves the largest row group's bytes: a constant, so that a read never
        # waits for bytes a smaller one before it left to the engine's buffers.
        size = max(rows) * row_bytes
        for i in range(len(rows)):
            yield size, partial(_row_group, pf, i, names, threads)
        return
    batches = pf.iter_batches(batch_size=batch_rows, columns=names, use_threads=threads)
    while True:
        yield batch_rows * row_bytes, partial(next, batches, None)


def _row_group(pf: pq.ParquetFile, i: int, names: list[str], threads: bool) -> pa.RecordBatch:
    table = pf.read_row_group(i, columns=names, use_threads=threads).combine_chunks()  # one chunk: no copy
    batches = table.to_batches()
    return batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)


def csv_steps(path: Path, names: list[str], batch_rows: int, row_bytes: int, threads: bool = True,
              dictionary: tuple[str, ...] = ()) -> Iterator[Step]:
    opts = pacsv.ConvertOptions(include_columns=names)
    read = csv_read_options(path, max(1 << 20, batch_rows * row_bytes * 3))
    read.use_threads = threads
    reader = pacsv.open_csv(path, read_options=read, convert_options=opts)
    while True:
        yield batch_rows * row_bytes, partial(next, reader, None)


def sequential(steps: Iterator[Step], job: _core.Job | None) -> Iterator[pa.RecordBatch]:
    """Read a batch when asked: one held (and reserved) at a time, until the next is asked for."""
    reserved = 0
    try:
        for size, read in steps:
            if job is not None:
                if reserved:
                    job.release(reserved)
                    reserved = 0
                job.reserve(size)
                reserved = size
            batch = read()
            if batch is None:
                return
            yield batch
    finally:
        if job is not None and reserved:
            job.release(reserved)


def prefetched(steps: Iterator[Step], job: _core.Job | None) -> Iterator[pa.RecordBatch]:
    """Read batch i+1 on a helper thread while the caller holds batch i (pyarrow releases the GIL
    while it decodes, the engine while it computes). The reader is asked for one batch at a time,
    so never more than two are held; it reserves each before reading it and hands it over with
    its reservation, which the caller releases when it asks for the next one. If the caller stops
    early (an error), a batch still being read is released by the reader itself."""
    requests: queue.SimpleQueue = queue.SimpleQueue()
    results: queue.SimpleQueue = queue.SimpleQueue()
    lock, stopped = threading.Lock(), threading.Event()
    done = object()

    def release(item) -> None:  # item: (batch, bytes) | done | an exception
        if job is not None and isinstance(item, tuple) and item[1]:
            job.release(item[1])

    def read() -> None:
        item = None
        while requests.get():
            try:
                step = next(steps, None)
                if step is None:
                    item = done
                else:
                    size, read_one = step
                    if job is not None:
                        job.reserve(size)
                    try:
                        batch = read_one()
                    except BaseException:
                        release((None, size))
                        raise
                    item = (batch, size) if batch is not None else done
                    if batch is None:
                        release((None, size))
            except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
                item = e
            with lock:
                if stopped.is_set():
                    release(item)
                    return
                results.put(item)
            if not isinstance(item, tuple):
                return

    reader = threading.Thread(target=read, name="cadence-gait-read", daemon=True)
    reader.start()
    held = item = None
    try:
        requests.put(True)
        while True:
            item = results.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            held = item
            requests.put(True)  # the next batch is read while this one is worked on
            yield item[0]
            item = None
            release(held)
            held = None
    finally:
        release(held)
        with lock:
            stopped.set()
            while not results.empty():
                release(results.get())
        requests.put(False)
        # Always wait for the reader: it holds the job, and a thread left running past the end
        # of the pass (Ctrl-C, an error) kept the job alive until exit ("nanobind: leaked 1
        # instances"). It stops after the batch it may be reading, whose bytes it releases.
        reader.join()
