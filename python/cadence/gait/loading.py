"""Opening a LocoHub file as LocoHub does: its file-type rules, its 'Failed to load data' error,
the phase column looked for when none is named, and warnings attributed to the user's line.
"""

from __future__ import annotations

import csv
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: Phase columns looked for, in this order, when ``phase_col`` is not given: the newest
#: package's default, the older versions' default, LocoHub's demo data.
PHASE_COLUMNS = ("phase_ipsi", "phase", "phase_percent")
_PACKAGE_DIR = str(Path(__file__).parent)


def warn(message: str | Warning) -> None:
    """A UserWarning (or the given warning) attributed to the first caller outside cadence.gait
    (the user's line)."""
    frame, level = sys._getframe(1), 1  # level: how far `frame` is above this function
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level + 1)  # stacklevel 1 is this function


def file_type_of(path: Path, file_type: str) -> str:
    if file_type == "auto":
        suffix = path.suffix.lower()
        if suffix in (".csv", ".txt"):
            return "csv"
        if suffix == ".parquet":
            return "parquet"
        for kind in ("parquet", "csv"):  # another suffix: whichever reader accepts it, as LocoHub
            try:
                peek_columns(path, kind)
                return kind
            except ValueError:
                pass
        raise ValueError(f"Failed to load data from {path}: Unable to determine file format for {path.suffix!r}; "
                         f"pass file_type='parquet' or 'csv'")
    if file_type not in ("parquet", "csv"):
        raise ValueError(f"Failed to load data from {path}: Unsupported file type: {file_type}. "
                         f"Use 'parquet', 'csv', or 'auto'")
    return file_type


def csv_read_options(path: Path, block_bytes: int = 1 << 20) -> pacsv.ReadOptions:
    """pyarrow's CSV read options with a block that holds the header line (a header longer than
    the block, a file of very many columns, is otherwise "Empty CSV file or block"). A header
    that repeats a column name is refused here, before pyarrow builds a reader per column (10^6
    columns of one name took minutes and gigabytes to be refused after parsing)."""
    parts: list[bytes] = []
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                end = chunk.find(b"\n")
                parts.append(chunk if end < 0 else chunk[:end])
                if end >= 0:
                    break
    except OSError:
        pass  # the reader says why
    header = b"".join(parts)
    try:
        refuse_repeated_names(path, next(csv.reader([header.decode("utf-8", "replace").rstrip("\r")]), []))
    except csv.Error:  # a stray carriage return or NUL in the header: pyarrow's reader says what
        pass
    return pacsv.ReadOptions(block_size=max(block_bytes, 2 * len(header) + 2))


def refuse_repeated_names(path: Path, names: list[str]) -> None:
    """A ValueError naming the column names used more than once (an export that repeated one):
    no reader can tell which to read."""
    if len(set(names)) != len(names):
        repeated = sorted((c, n) for c, n in Counter(names).items() if n > 1)
        shown = ", ".join(f"{c!r} ({n:,} columns)" for c, n in repeated[:5])
        raise ValueError(f"{path}: several columns have the same name: {shown}; cadence cannot tell which to "
                         f"read. Rename or remove the repeated columns")


def peek_columns(path: Path, file_type: str) -> list[str]:
    """The file's column names; an unreadable file gives LocoHub's 'Failed to load data' error."""
    options = csv_read_options(path) if file_type == "csv" else None  # its own error for repeated names
    try:
        if file_type == "parquet":
            return list(pq.read_schema(path).names)
        with pacsv.open_csv(path, read_options=options) as reader:
            return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError) as e:
        other = "csv" if file_type == "parquet" else "parquet"
        label = "CSV" if file_type == "csv" else "parquet"
        # A Parquet file named .csv made pyarrow quote its binary bytes here: say what it is.
        said = content_mismatch(path, file_type, lambda kind: f"file_type={kind!r}")
        if said is not None:
            raise ValueError(f"Failed to load data from {path}: Failed to read {label} file: {said}") from e
        raise ValueError(f"Failed to load data from {path}: Failed to read {label} file: {e}. Check the file, "
                         f"or pass file_type={other!r} if it is {other}") from e


def content_mismatch(path: Path, file_type: str, option=None) -> str | None:
    """What to tell a user whose file's bytes contradict ``file_type`` (read from its name): a
    Parquet file named .csv, binary data named .csv, text named .parquet; None when they agree
    or the file cannot be read (the reader then says why). The advice is to rename the file
    (the CLI reads a file by its suffix), and to pass ``option(kind)`` where the caller can
    name the type (LocomotionData's ``file_type=``)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if not head:
        return None
    # PAR1: Parquet's magic bytes; a NUL byte: not text (in any 8-bit encoding or UTF-8)
    is_parquet, text = head[:4] == b"PAR1", b"\0" not in head
    also = (lambda kind: f" or pass {option(kind)}") if option else (lambda kind: "")
    if file_type == "csv" and is_parquet:
        return (f"{path} is a Parquet file, not CSV; rename it to {path.with_suffix('.parquet').name}"
                f"{also('parquet')}")
    if file_type == "csv" and not text:
        return f"{path} holds binary data, not CSV text; check that it is the file you meant"
    if file_type == "parquet" and not is_parquet and text:
        return f"{path} is a text file (CSV?), not Parquet; rename it to {path.with_suffix('.csv').name}{also('csv')}"
    return None


def find_phase_column(path: Path, columns: list[str]) -> str:
    found = next((c for c in PHASE_COLUMNS if c in columns), None)
    if found is not None or "time_s" in columns:
        return found or PHASE_COLUMNS[0]  # a time-indexed file: GaitFile says how to convert it
    near = [c for c in columns if "phase" in c.lower()]
    hint = f"pass phase_col={near[0]!r}" if near else "pass phase_col='<your phase column>'"
    raise ValueError(f"Missing required columns: ['phase_ipsi']\n{path}: no phase column found (looked for "
                     f"{', '.join(PHASE_COLUMNS)}, in that order).\nAvailable columns: {columns}\n"
                     f"Hint: Use custom column names in constructor if your data uses different names: {hint}")


def phase_warnings(phase_range: tuple[float, float] | None, phase: np.ndarray | None = None,
                   runs: dict | None = None, n_groups: int = 0) -> None:
    """LocoHub's load-time warnings on a numeric phase column: only NaN (``phase_range`` None,
    else the finite values' (min, max), which the index measured), values outside [0, 100], and,
    when the file has a time column (``phase``, NaN for nulls, and ``runs``, the index's runs),
    fewer than 100 distinct phases per subject x task on average (time-indexed data)."""
    if phase_range is None:
        warn("Phase column contains only NaN values")
        return
    lo, hi = phase_range
    if lo < 0 or hi > 100:
        warn(f"Phase values outside expected range [0-100]: [{lo:.1f}, {hi:.1f}]")
    if runs is not None and phase is not None:
        avg = mean_distinct_phases(phase, runs, n_groups)
        if avg < 100:
            warn(f"Data appears to be time-indexed (avg {avg:.1f} unique phase values per "
                 f"subject-task). LocomotionData works best with phase-indexed data (150 points "
                 f"per cycle). Consider converting to phase-indexed format.")


def mean_distinct_phases(phase: np.ndarray, runs: dict, n_groups: int) -> float:
    """Mean over subject x task groups of the number of distinct non-NaN phase values
    (pandas' nunique per group, LocoHub's time-indexed test)."""
    group = np.full(phase.shape[0], -1, dtype=np.int64)
    for g, start, n in zip(runs["group"], runs["row_begin"], runs["rows"]):
        group[int(start):int(start) + int(n)] = int(g)
    keep = ~np.isnan(phase) & (group >= 0)
    g, p = group[keep], phase[keep]
    order = np.lexsort((p, g))
    g, p = g[order], p[order]
    new = np.ones(g.shape[0], dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (p[1:] != p[:-1])
    counts = np.bincount(g[new], minlength=n_groups)
    return float(counts.mean()) if counts.size else 0.0
