"""atheris target: reading a prepared drums directory whose Parquet tables or blob files were
damaged, cut short or rewritten by another tool (cadence.drums.open, `drums verify`, `inspect`).

Each input takes one of three prepared directories (clips layout; index layout with FLAC frame
tables; index layout with PCM16) and changes one of its shard files: in a Parquet table a
column's values (offsets, byte counts, sample counts, frame tables, block sizes, codecs, labels
set to hostile numbers or strings), its type (strings, floats, nested lists, structs, nulls,
dictionaries), rows removed or repeated, a column dropped; or raw bytes of a table or of an
audio-NNNNN.bin written over, cut or extended. Mostly the journal is then "resealed" (size and
SHA-256 of the new bytes), as a tool that rewrote the file and its journal entry would, so the
readers past the cheap size check are reached. Every offset, length and frame table derived from
the tables reaches the engine's AudioStore, under ASan/UBSan in `make fuzz`.

Must hold: drums.open either gives a dataset whose items are float32 windows of the promised
length, or raises ValueError / OSError (StoredAudioError is a ValueError) - and so does every
item read; `drums verify` and `drums inspect` exit 0, 1 or 2 with no traceback.
Run by `make fuzz`; alone: ``.venv/bin/python fuzz/prepared_fuzz.py -max_total_time=60 DIR``.
"""

import hashlib
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_support  # noqa: E402

fuzz_support.use_fuzz_engine()
import atheris  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from cadence import drums  # noqa: E402
from cadence.drums import sequences, verify  # noqa: E402,F401  (loaded for instrumentation)

_WORK = fuzz_support.scratch("prepared_fuzz")
_ROOT = _WORK / "corpus"
_OUT = _WORK / "out"
fuzz_support.sample_drums(_ROOT, performances=2, kits=1, seed=5, min_duration_s=2.0, max_duration_s=2.5, jobs=1)
_LAYOUTS = {
    "clips": ["--layout", "clips", "--clip", "0.1"],
    "index_flac": ["--layout", "index", "--index-codec", "flac"],
    "index_pcm16": ["--layout", "index", "--index-codec", "pcm16"],
}
_PRISTINE = {}
for _name, _options in _LAYOUTS.items():
    _PRISTINE[_name] = _WORK / _name
    _code, _text = fuzz_support.run_cli("drums", "prepare", _ROOT, _PRISTINE[_name], *_options, "--shard-size", "1",
                                        "--jobs", "1", "-q")
    assert _code == 0, _text
_SHARD_FILES = {k: sorted(p.name for p in d.iterdir() if p.suffix in (".parquet", ".bin")) for k, d in _PRISTINE.items()}
fuzz_support.instrument_cadence(atheris)

_BIG = [0, 1, -1, 2, 63, 64, 4095, 4096, 65535, 2**31 - 1, 2**31, 2**32, 2**53, 2**62, 2**63 - 1, -(2**63)]


def _number(fdp: atheris.FuzzedDataProvider, like: int | float | None = None):
    k = fdp.ConsumeIntInRange(0, 3)
    if k == 0:
        return fdp.PickValueInList(_BIG)
    if k == 1 and like is not None:
        return int(like) + fdp.ConsumeIntInRange(-70, 70)
    if k == 2:
        return fdp.ConsumeIntInRange(-(2**20), 2**20)
    return fdp.ConsumeIntInRange(0, 300)


def _values(fdp: atheris.FuzzedDataProvider, col: pa.ChunkedArray) -> pa.Array:
    """New values for a column of the same type (hostile numbers, strings, list lengths)."""
    t, n = col.type, len(col)
    old = col.to_pylist()
    if pa.types.is_integer(t):
        info = np.iinfo(t.to_pandas_dtype())
        vals = [_number(fdp, old[i] if old[i] is not None else None) if fdp.ConsumeBool() else old[i] for i in range(n)]
        return pa.array([min(max(v, int(info.min)), int(info.max)) if v is not None else None for v in vals], t)
    if pa.types.is_floating(t):
        return pa.array([fdp.PickValueInList([0.0, -1.0, 1e300, float("nan"), float("inf"), -1e-300, 2.0**62])
                         if fdp.ConsumeBool() else old[i] for i in range(n)], t)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_dictionary(t):
        new = [fdp.PickValueInList(["flac", "pcm16", "float16", "float32", "", "x" * 100_000, "\u00e9\U0001f941"])
               if fdp.ConsumeBool() else old[i] for i in range(n)]
        return pa.array(new, t if not pa.types.is_dictionary(t) else pa.string())
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        inner = t.value_type
        lists = []
        for i in range(n):
            if fdp.ConsumeBool() or old[i] is None:
                m = fdp.ConsumeIntInRange(0, 12) if fdp.ConsumeIntInRange(0, 7) else fdp.ConsumeIntInRange(0, 5000)
                lists.append([_number(fdp) % 256 if pa.types.is_integer(inner) and inner.bit_width == 8
                              else _number(fdp) for _ in range(m)])
            else:
                lists.append(old[i])
        try:
            return pa.array(lists, t if not pa.types.is_fixed_size_list(t) else pa.list_(inner))
        except (pa.ArrowInvalid, OverflowError):
            return pa.array(lists, pa.list_(pa.int64()))
    return col.combine_chunks()


def _retyped(fdp: atheris.FuzzedDataProvider, col: pa.ChunkedArray) -> pa.Array:
    """The column as another type, or values of another type entirely."""
    n = len(col)
    k = fdp.ConsumeIntInRange(0, 8)
    if k == 0:
        return pa.array([str(x) for x in col.to_pylist()], pa.string())
    if k == 1:
        return pa.nulls(n, fdp.PickValueInList([pa.null(), pa.int64(), pa.string(), pa.float64()]))
    if k == 2:
        return pa.array(np.linspace(-1e9, 1e9, n), pa.float64())
    if k == 3:
        return pa.array([[[i]] for i in range(n)], pa.list_(pa.list_(pa.int64())))
    if k == 4:
        return pa.array([{"a": i, "b": "x"} for i in range(n)])
    if k == 5:
        return pa.array([str(i) for i in range(n)]).dictionary_encode()
    if k == 6:
        return pa.array([b"\x00" * fdp.ConsumeIntInRange(0, 64) for _ in range(n)], pa.large_binary())
    if k == 7:
        return pa.array([fdp.ConsumeBool() for _ in range(n)], pa.bool_())
    return pa.array(range(n), fdp.PickValueInList([pa.int8(), pa.uint64(), pa.int16(), pa.float16()]))


def _edit_table(path, fdp: atheris.FuzzedDataProvider) -> None:
    table = pq.read_table(path)
    names = table.column_names
    kind = fdp.ConsumeIntInRange(0, 9)
    i = fdp.ConsumeIntInRange(0, len(names) - 1)
    if kind <= 5:
        col = _values(fdp, table.column(i)) if kind <= 4 else _retyped(fdp, table.column(i))
        table = table.set_column(i, pa.field(names[i], col.type), col)
    elif kind == 6:
        table = table.remove_column(i)
    elif kind == 7:
        start = fdp.ConsumeIntInRange(0, table.num_rows)
        table = table.slice(start, fdp.ConsumeIntInRange(0, table.num_rows - start))
    elif kind == 8:
        idx = [fdp.ConsumeIntInRange(0, max(table.num_rows - 1, 0)) for _ in range(fdp.ConsumeIntInRange(0, 40))]
        table = table.take(pa.array(idx, pa.int64())) if table.num_rows else table
    else:  # a column of the same name twice
        table = table.append_column(pa.field(names[i], table.schema.field(i).type), table.column(i))
    pq.write_table(table, path)


def _edit_bytes(path, fdp: atheris.FuzzedDataProvider) -> None:
    data = bytearray(path.read_bytes())
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 0 or not data:
        data = data[:fdp.ConsumeIntInRange(0, len(data))] + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 64))
    else:
        for _ in range(fdp.ConsumeIntInRange(1, 8)):
            at = fdp.ConsumeIntInRange(0, len(data) - 1)
            chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 8))
            data[at:at + len(chunk)] = chunk
    path.write_bytes(bytes(data))


def _reseal(out, name: str) -> None:
    """The journal's size and checksum of `name` made those of its new bytes."""
    journal = out / "journal.jsonl"
    data = (out / name).read_bytes()
    lines = []
    for line in journal.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("type") == "commit" and name in entry["files"]:
            entry["files"][name].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        lines.append(json.dumps(entry))
    journal.write_text("\n".join(lines) + "\n")


def _read_all(ds) -> None:
    n = len(ds)
    for i in range(min(n, 24)):
        try:
            item = ds[i]
        except ValueError:  # StoredAudioError: names the file and says to run verify
            continue
        audio = item["audio"]
        assert audio.dtype == np.float32 and audio.ndim == 1, (audio.dtype, audio.shape)
    if n:
        try:
            batch = ds.read_batch(np.arange(min(n, 64)))
        except ValueError:
            return
        assert batch["audio"].dtype == np.float32 and batch["audio"].shape[0] == min(n, 64), batch["audio"].shape


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    layout = fdp.PickValueInList(list(_LAYOUTS))
    fuzz_support.copy_tree(_PRISTINE[layout], _OUT)
    for _ in range(fdp.ConsumeIntInRange(1, 2)):
        name = fdp.PickValueInList(_SHARD_FILES[layout])
        path = _OUT / name
        if name.endswith(".parquet") and fdp.ConsumeIntInRange(0, 7):
            _edit_table(path, fdp)
        else:
            _edit_bytes(path, fdp)
        if fdp.ConsumeIntInRange(0, 7):
            _reseal(_OUT, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode in ("records", "sequences") if fdp.ConsumeBool() else ("records",):
            try:
                ds = drums.open(_OUT, mode=mode)
            except (ValueError, OSError):
                continue
            if mode == "records":
                _read_all(ds)
            else:
                for i in range(min(len(ds), 4)):
                    try:
                        ds[i]
                    except ValueError:
                        pass
    fuzz_support.run_cli("drums", "verify", _OUT)
    fuzz_support.run_cli("drums", "inspect", _OUT)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
