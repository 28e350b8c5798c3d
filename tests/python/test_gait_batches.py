"""Reading feature batches for the engine: whole row groups or fixed batches, read ahead on a
helper thread or in turn; every batch reserved from the budget and given back, on errors too."""

import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence.gait import LocomotionData
from cadence.gait import batches
from cadence.gait.reader import GaitFile
from cadence.runtime import make_job
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("batches")
    return gait.generate(d / "s.parquet", subjects=2, strides_per_task=12, n_features=20, seed=9, row_group_rows=1200)


def read_all(gfile, names, batch_rows, job, prefetch):
    return pa.Table.from_batches(list(gfile.iter_batches(names, batch_rows, job, prefetch=prefetch)))


@pytest.mark.parametrize("batch_rows", [149, 700, 1200, 5000])
@pytest.mark.parametrize("prefetch", [False, True])
def test_same_rows_in_file_order_and_every_byte_given_back(sample, batch_rows, prefetch):
    gfile = GaitFile(sample.path)
    names = gfile.features[:5]
    job = make_job(1, "64M")
    got = read_all(gfile, names, batch_rows, job, prefetch)
    assert got.equals(pq.read_table(sample.path, columns=names))
    assert job.reserved_bytes == 0 and job.peak_reserved_bytes > 0


def test_row_groups_are_read_whole_when_small_enough(sample):
    rows = [1200] * 3
    assert batches.by_row_groups(rows, 600) and not batches.by_row_groups(rows, 599)
    gfile = GaitFile(sample.path)
    sizes = {b.num_rows for b in gfile.iter_batches(gfile.features[:2], 1000)}
    assert sizes <= {1200, pq.read_metadata(sample.path).num_rows % 1200}  # whole row groups
    assert gfile.largest_read(1000) == 1200 and gfile.largest_read(500) == 500


def test_prefetch_holds_at_most_two_batches(sample):
    gfile = GaitFile(sample.path)
    names = gfile.features[:4]
    job = make_job(1, "64M")
    per_batch = 149 * gfile.row_bytes(names)
    for _ in gfile.iter_batches(names, 149, job, prefetch=True):
        assert job.reserved_bytes <= 2 * per_batch
    assert job.peak_reserved_bytes <= 2 * per_batch


def test_stopping_early_releases_the_batch_being_read_ahead(sample):
    gfile = GaitFile(sample.path)
    names = gfile.features[:4]
    job = make_job(1, "64M")
    it = gfile.iter_batches(names, 149, job, prefetch=True)
    next(it)
    next(it)
    it.close()  # the reader thread may be mid-read: it gives that batch back itself
    for t in threading.enumerate():
        if t.name == "cadence-gait-read":
            t.join(timeout=10)
    assert job.reserved_bytes == 0
    assert not any(t.name == "cadence-gait-read" for t in threading.enumerate())


def test_a_read_error_reaches_the_caller(sample):
    def steps():
        yield 10, lambda: pa.record_batch({"x": [1.0]})
        yield 10, lambda: (_ for _ in ()).throw(OSError("disk gone"))

    job = make_job(1, "1M")
    got = []
    with pytest.raises(OSError, match="disk gone"):
        for b in batches.prefetched(steps(), job):
            got.append(b.num_rows)
    assert got == [1] and job.reserved_bytes == 0


def test_read_ahead_and_in_turn_give_the_same_features(sample):
    loco = LocomotionData(sample.path)
    ahead = loco.cycle_features(output="arrow", show_progress=False)  # default limit: reads ahead
    # A limit with room for one read and the largest group (copied whole, float64) but not for
    # two reads: batches are then read in turn.
    read = 1200 * loco.gait_file.row_bytes(loco.features)
    largest = int(loco.cycle_index.groups["rows"].max()) * len(loco.features) * 8
    limit = read + largest + read // 2
    in_turn = LocomotionData(sample.path, memory_limit=limit).cycle_features(output="arrow", show_progress=False)
    assert ahead.column_names == in_turn.column_names
    for c in ahead.column_names:
        np.testing.assert_array_equal(ahead.column(c).to_numpy(), in_turn.column(c).to_numpy(), err_msg=c)
