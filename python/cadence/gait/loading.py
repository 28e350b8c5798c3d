"""Opening a LocoHub file as LocoHub does: its file-type rules, its 'Failed to load data' error,
the phase column looked for when none is named, and warnings attributed to the user's line.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: Phase columns looked for, in this order, when ``phase_col`` is not given: the newest
#: package's default, the older versions' default, LocoHub's demo data.
PHASE_COLUMNS = ("phase_ipsi", "phase", "phase_percent")
_PACKAGE_DIR = str(Path(__file__).parent)


def warn(message: str) -> None:
    """A UserWarning attributed to the first caller outside cadence.gait (the user's line)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


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


def peek_columns(path: Path, file_type: str) -> list[str]:
    """The file's column names; an unreadable file gives LocoHub's 'Failed to load data' error."""
    try:
        if file_type == "parquet":
            return list(pq.read_schema(path).names)
        with pacsv.open_csv(path) as reader:
            return list(reader.schema.names)
    except (pa.ArrowException, OSError, ValueError) as e:
        other = "csv" if file_type == "parquet" else "parquet"
        label = "CSV" if file_type == "csv" else "parquet"
        raise ValueError(f"Failed to load data from {path}: Failed to read {label} file: {e}. Check the file, "
                         f"or pass file_type={other!r} if it is {other}") from e


def find_phase_column(path: Path, columns: list[str]) -> str:
    found = next((c for c in PHASE_COLUMNS if c in columns), None)
    if found is not None or "time_s" in columns:
        return found or PHASE_COLUMNS[0]  # a time-indexed file: GaitFile says how to convert it
    near = [c for c in columns if "phase" in c.lower()]
    hint = f"pass phase_col={near[0]!r}" if near else "pass phase_col='<your phase column>'"
    raise ValueError(f"Missing required columns: ['phase_ipsi']\n{path}: no phase column found (looked for "
                     f"{', '.join(PHASE_COLUMNS)}, in that order).\nAvailable columns: {columns}\n"
                     f"Hint: Use custom column names in constructor if your data uses different names: {hint}")
