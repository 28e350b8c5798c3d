"""The Arrow C Data / C Stream exporter, imported by pyarrow and compared value by value.

The expected values are the formulas documented in src/cadence/arrow/type_zoo.cpp, recomputed
here independently of the engine.
"""

import gc

import numpy as np
import pyarrow as pa
import pytest

from cadence import _core, _testing

N = 37


def expected(n: int) -> dict:
    i = np.arange(n, dtype=np.int64)
    return {
        "i8": (i % 256 - 128).tolist(),
        "u8": ((i * 3) % 256).tolist(),
        "i16": (i * 17 - 1000).tolist(),
        "u16": (i * 13).tolist(),
        "i32": (i * 1000 - 7).tolist(),
        "u32": [(k * 2654435761) % 2**32 for k in range(n)],
        "i64": [k * 10**12 - 5 for k in range(n)],
        "u64": [(k << 40) + 1 for k in range(n)],
        "f16": (i * 0.25).tolist(),
        "f32": (i * 0.5 - 3).tolist(),
        "f64": [k / 3.0 for k in range(n)],
        "i32_nullable": [None if k % 5 == 0 else k for k in range(n)],
        "flag": [k % 3 == 0 for k in range(n)],
        "text": [f"row-{k}" + ("ü" if k % 2 == 0 else "") for k in range(n)],
        "large_text": [f"row-{k}" + ("ü" if k % 2 == 0 else "") for k in range(n)],
        "blob": [bytes([k % 256]) * (k % 4) for k in range(n)],
        "large_blob": [bytes([k % 256]) * (k % 4) for k in range(n)],
        "ints": [[k + j for j in range(k % 4)] for k in range(n)],
        "doubles": [[k * 0.5 + j for j in range(k % 3)] for k in range(n)],
        "xyz": [[k, k + 0.5, k + 0.25] for k in range(n)],
        "drum": [None if k % 7 == 0 else ["kick", "snare", "hihat"][k % 3] for k in range(n)],
    }


EXPECTED_TYPES = {
    "i8": pa.int8(), "u8": pa.uint8(), "i16": pa.int16(), "u16": pa.uint16(),
    "i32": pa.int32(), "u32": pa.uint32(), "i64": pa.int64(), "u64": pa.uint64(),
    "f16": pa.float16(), "f32": pa.float32(), "f64": pa.float64(), "i32_nullable": pa.int32(),
    "flag": pa.bool_(), "text": pa.string(), "large_text": pa.large_string(),
    "blob": pa.binary(), "large_blob": pa.large_binary(), "ints": pa.list_(pa.int32()),
    "doubles": pa.large_list(pa.float64()), "xyz": pa.list_(pa.float32(), 3),
    "drum": pa.dictionary(pa.int32(), pa.string()),
}


@pytest.mark.parametrize("importer", ["record_batch", "table", "reader"])
def test_every_type_round_trips_with_equal_values(importer):
    zoo = _testing.arrow_type_zoo(N)
    if importer == "record_batch":
        data = pa.record_batch(zoo)
    elif importer == "table":
        data = pa.table(zoo)
    else:
        data = pa.RecordBatchReader.from_stream(zoo).read_all()
    data.validate(full=True)
    assert data.num_rows == N
    assert data.schema.names == list(EXPECTED_TYPES)
    for name, typ in EXPECTED_TYPES.items():
        assert data.schema.field(name).type == typ, name
    got = data.to_pydict()
    for name, values in expected(N).items():
        assert got[name] == values, name


def test_nullability_flags_follow_the_engine():
    schema = pa.record_batch(_testing.arrow_type_zoo(3)).schema
    assert schema.field("i32_nullable").nullable
    assert schema.field("drum").nullable
    assert not schema.field("i64").nullable


def test_empty_batch_keeps_every_column():
    data = pa.record_batch(_testing.arrow_type_zoo(0))
    assert data.num_rows == 0
    assert data.num_columns == len(EXPECTED_TYPES)


def test_every_export_is_released():
    gc.collect()
    before = _core.arrow_live_exports()
    for _ in range(20):
        zoo = _testing.arrow_type_zoo(100)
        t = pa.table(zoo)
        b = pa.record_batch(zoo)
        assert t.num_rows == b.num_rows == 100
        del t, b, zoo
    # Unconsumed capsules must release too.
    caps = _testing.arrow_type_zoo(5).__arrow_c_array__()
    stream = _testing.arrow_type_zoo(5).__arrow_c_stream__()
    del caps, stream
    gc.collect()
    assert _core.arrow_live_exports() == before


def test_pyarrow_data_outlives_the_engine_handle():
    zoo = _testing.arrow_type_zoo(10)
    table = pa.table(zoo)
    del zoo
    gc.collect()
    assert table.column("f64").to_pylist()[9] == pytest.approx(3.0)
