"""atheris target: a gait input file with a hostile schema (cadence.gait.LocomotionData,
`cadence gait validate`, `cadence gait features`).

Each input builds a phase-indexed table from a small valid one (subject, task, step,
phase_ipsi and 20 features) and damages it: columns of the wrong type (strings, booleans,
unsigned 64-bit, float16, decimals, timestamps, binary, nested lists and structs, all-null,
dictionaries), hostile values (NaN, infinities, 1e308, nulls, 100,000-character strings),
duplicated or empty column names, thousands of columns named alike, columns dropped, zero rows
or repeated rows. It is written as Parquet or CSV (also raw CSV text from the fuzz bytes), under
a fitting or a misleading suffix.

Must hold: LocomotionData either opens the file and get_cycles gives a (cycles, 150, features)
float array (or None, LocoHub's answer for rows that are not whole cycles), or it raises ValueError / OSError naming the problem; `gait validate` exits 0, 1 or 2
and `gait features` 0 or 2, without a traceback. The engine's gait kernels run under ASan/UBSan
in `make fuzz`. Before fuzzing, the target checks one file of 10^6 columns named alike (CSV),
too slow to write per input.
Run by `make fuzz`; alone: ``.venv/bin/python fuzz/gait_input_fuzz.py -max_total_time=60 DIR``.
"""

import decimal
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_support  # noqa: E402

fuzz_support.use_fuzz_engine()
import atheris  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from cadence.gait import LocomotionData, features, validation  # noqa: E402,F401  (instrumented below)
from cadence.sample import gait as sample_gait  # noqa: E402

_WORK = fuzz_support.scratch("gait_input_fuzz")
_BASE_PATH = _WORK / "base.parquet"
sample_gait.generate(_BASE_PATH, subjects=1, strides_per_task=2, tasks=list(sample_gait.ALL_TASKS[:2]),
                     n_features=20, faults=False)
_BASE = pq.read_table(_BASE_PATH)
_OUT = _WORK / "features.parquet"
_SUFFIXES = [".parquet", ".csv", ".txt", ".dat", ""]


def _api(path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loco = LocomotionData(path, verbose=False, jobs=1)
            subjects, tasks, feats = loco.get_subjects(), loco.get_tasks(), loco.get_variables()
            if subjects and tasks and feats:
                cycles = loco.get_cycles(subjects[0], tasks[0], feats[:3])[0]
                # None: LocoHub's answer for rows that are not whole 150-point cycles
                assert cycles is None or (cycles.ndim == 3 and cycles.shape[1] == 150), cycles.shape
        except (ValueError, OSError):
            pass


def _check(path) -> None:
    _api(path)
    fuzz_support.run_cli("gait", "validate", path, "--jobs", "1")
    code, text = fuzz_support.run_cli("gait", "features", path, "-o", _OUT, "--jobs", "1")
    assert code in (0, 2), (code, text)


def _wide_file() -> None:
    """10^6 columns named alike, once: a clear answer, no traceback, no quadratic hang."""
    path = _WORK / "wide.csv"
    n = 1_000_000
    header = "subject,task,step,phase_ipsi," + ",".join(["knee_flexion_angle_ipsi_rad"] * n)
    path.write_text(header + "\n" + "S1,walk,1,0," + ",".join(["0.5"] * n) + "\n")
    _check(path)
    path.unlink()


_wide_file()
fuzz_support.instrument_cadence(atheris)


def _retyped(fdp: atheris.FuzzedDataProvider, col: pa.ChunkedArray) -> pa.Array:
    n = len(col)
    k = fdp.ConsumeIntInRange(0, 12)
    if k == 0:
        return pa.array([str(x) for x in col.to_pylist()], pa.string())
    if k == 1:
        return pa.nulls(n, fdp.PickValueInList([pa.null(), pa.float64(), pa.string(), pa.int64()]))
    if k == 2:
        return pa.array([fdp.ConsumeBool() for _ in range(n)], pa.bool_())
    if k == 3:
        return pa.array(np.arange(n, dtype=np.uint64) + np.uint64(2**63), pa.uint64())
    if k == 4:
        return pa.array(np.arange(n) % 150, pa.float16())
    if k == 5:
        return pa.array([decimal.Decimal(i) for i in range(n)], pa.decimal128(20, 2))
    if k == 6:
        return pa.array(np.arange(n), pa.timestamp("ms"))
    if k == 7:
        return pa.array([b"\x00\xff" * (i % 4) for i in range(n)], pa.binary())
    if k == 8:
        return pa.array([[float(i), 1.0] for i in range(n)], pa.list_(pa.float64()))
    if k == 9:
        return pa.array([{"x": float(i), "y": "s"} for i in range(n)])
    if k == 10:
        return pa.array([str(i % 3) for i in range(n)]).dictionary_encode()
    if k == 11:
        return pa.array(np.arange(n) % 128, pa.int8() if fdp.ConsumeBool() else pa.int64())
    return pa.array(["x" * 100_000 if i == 0 else "" for i in range(n)], pa.large_string())


def _values(fdp: atheris.FuzzedDataProvider, col: pa.ChunkedArray) -> pa.Array:
    t, vals = col.type, col.to_pylist()
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        if not vals:
            break
        i = fdp.ConsumeIntInRange(0, len(vals) - 1)
        if pa.types.is_floating(t):
            vals[i] = fdp.PickValueInList([None, float("nan"), float("inf"), -float("inf"), 1e308, -1.0, 100.5, 0.0])
        elif pa.types.is_integer(t):
            vals[i] = fdp.PickValueInList([None, -1, 0, 2**31, 2**62, -(2**62)])
        else:
            vals[i] = fdp.PickValueInList([None, "", "x" * 100_000, "\u00e9", "S,1", '"', "\n"])
    return pa.array(vals, t)


def _hostile_table(fdp: atheris.FuzzedDataProvider) -> pa.Table:
    table = _BASE
    rows = fdp.ConsumeIntInRange(0, 3)
    if rows == 0:
        table = table.slice(0, 0)
    elif rows == 1:
        start = fdp.ConsumeIntInRange(0, table.num_rows)
        table = table.slice(start, fdp.ConsumeIntInRange(0, table.num_rows - start))
    elif rows == 2:
        idx = [fdp.ConsumeIntInRange(0, table.num_rows - 1) for _ in range(fdp.ConsumeIntInRange(1, 400))]
        table = table.take(pa.array(idx, pa.int64()))
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        names = table.column_names
        if not names:
            break
        i = fdp.ConsumeIntInRange(0, len(names) - 1)
        kind = fdp.ConsumeIntInRange(0, 6)
        if kind <= 1:
            col = _retyped(fdp, table.column(i))
            table = table.set_column(i, pa.field(names[i], col.type), col)
        elif kind == 2:
            table = table.set_column(i, table.schema.field(i), _values(fdp, table.column(i)))
        elif kind == 3:  # renamed: to another column's name, to nothing, to a feature-like name
            new = fdp.PickValueInList([names[fdp.ConsumeIntInRange(0, len(names) - 1)], "", " ", "phase",
                                       "knee_angle", fdp.ConsumeUnicode(8)])
            table = table.rename_columns([new if j == i else n for j, n in enumerate(names)])
        elif kind == 4:
            table = table.remove_column(i)
        else:  # columns named alike: the same name, or numbered names (each one a feature to compute)
            same = fdp.ConsumeBool()
            many = fdp.ConsumeIntInRange(1, 3000 if same else 200)
            col = table.column(i)
            extra = [names[i] if same else f"{names[i]}_{k}" for k in range(many)]
            table = pa.Table.from_arrays(table.columns + [col] * many, names=names + extra)
    return table


def _write(fdp: atheris.FuzzedDataProvider, table: pa.Table):
    kind = fdp.ConsumeIntInRange(0, 5)
    suffix = fdp.PickValueInList(_SUFFIXES)
    path = _WORK / f"input{suffix}"
    if kind <= 2:
        pq.write_table(table, path)
    elif kind <= 4:
        try:
            pacsv.write_csv(table, path)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            lines = [",".join(table.column_names)]
            lines += [",".join(str(v) for v in row.values()) for row in table.slice(0, 300).to_pylist()]
            path.write_text("\n".join(lines) + "\n", errors="surrogatepass")
    else:  # raw text after a valid header
        head = ",".join(_BASE.column_names).encode()
        path.write_bytes(head + b"\n" + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096)))
    return path


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    path = _write(fdp, _hostile_table(fdp))
    try:
        _check(path)
    finally:
        path.unlink()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
