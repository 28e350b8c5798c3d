"""`cadence gait features --ray` on a local 2-node Ray cluster: the local run's rows, in its
order, with the same bits, also when a task's worker is killed or the driver is."""

import signal
import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest
from cluster_support import CLI, import_error_of, kill_next_writer, without_ray

from cadence.cli import main
from cadence.gait import LocomotionData
from cadence.gait.ray_executor import split_units
from cadence.sample import gait


def assert_identical(a: pa.Table, b: pa.Table) -> None:
    """Same schema, rows and order; floats compared bit for bit (NaN included)."""
    assert a.schema == b.schema and a.num_rows == b.num_rows > 0
    for name in a.column_names:
        x, y = a.column(name).combine_chunks(), b.column(name).combine_chunks()
        if pa.types.is_floating(x.type):
            assert np.array_equal(x.to_numpy(zero_copy_only=False).view(np.uint64),
                                  y.to_numpy(zero_copy_only=False).view(np.uint64)), name
        elif pa.types.is_dictionary(x.type):
            assert x.dictionary.equals(y.dictionary) and x.indices.equals(y.indices), name
        else:
            assert x.equals(y), name


def assert_same_files(a, b) -> None:
    """The local output ``a`` and the Ray one ``b`` (Parquet, or .npy with its .meta.parquet),
    and their drop logs (both absent, or the same text)."""
    if a.suffix == ".parquet":
        assert_identical(pq.read_table(b), pq.read_table(a))
    else:
        assert np.array_equal(np.load(a).view(np.uint32), np.load(b).view(np.uint32))
        assert_identical(pq.read_table(b.with_suffix(".meta.parquet")), pq.read_table(a.with_suffix(".meta.parquet")))
    drops = [p.with_suffix(".drops.csv") for p in (a, b)]
    assert [d.read_text() if d.exists() else None for d in drops] == [d.read_text() if d.exists() else None
                                                                      for d in drops[::-1]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """3 subjects x 4 tasks in row groups of 1,000 rows (units cut inside row groups), with the
    sample's injected invalid cycles, outliers and NaNs; plus a group split into two runs."""
    d = tmp_path_factory.mktemp("gait-ray")
    path = d / "g.parquet"
    gait.generate(path, subjects=3, strides_per_task=8, n_features=20, seed=3, row_group_rows=1000,
                  tasks=gait.ALL_TASKS[:4])
    t = pq.read_table(path)
    k = 150 * 8  # move the first group's last 2 strides to the end: one group in two runs
    moved = pa.concat_tables([t.slice(0, k - 300), t.slice(k), t.slice(k - 300, 300)])
    split = d / "split.parquet"
    pq.write_table(moved, split, row_group_size=1000)
    csv = d / "g.csv"
    pa.csv.write_csv(t, csv)
    return path, split, csv


def test_units_hold_whole_groups(sample):
    loco = LocomotionData(sample[1])
    units = split_units(loco.cycle_index, 1)
    assert units[0] == (0, loco.cycle_index.index.rows)  # the split group spans the file: one unit
    loco = LocomotionData(sample[0])
    units = split_units(loco.cycle_index, 2500)
    assert units[0][0] == 0 and units[-1][1] == loco.cycle_index.index.rows
    assert all(a[1] == b[0] for a, b in zip(units, units[1:])) and len(units) > 2
    starts = {int(r) for r in loco.cycle_index.groups["first_row"]}
    assert all(a in starts for a, _ in units)
    with pytest.raises(ValueError, match="unit_rows=0"):
        split_units(loco.cycle_index, 0)


def test_a_unit_reads_only_its_row_groups(sample, monkeypatch):
    from cadence.gait import ray_executor
    from cadence.gait.reader import GaitFile

    asked = []
    read = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups",
                        lambda self, groups, **kw: asked.append(list(groups)) or read(self, groups, **kw))
    g = GaitFile(sample[0])
    whole = pq.read_table(sample[0], columns=["subject", "step"])
    part = ray_executor._read_rows(g, 2400, 4650, ["subject", "step"])
    assert asked == [[2, 3, 4]]  # rows 2,000-4,999 of 1,000-row groups
    assert part.equals(whole.slice(2400, 2250))
    assert ray_executor._read_rows(GaitFile(sample[2]), 2400, 4650, ["subject", "step"]).to_pylist() == \
        part.to_pylist()  # a CSV: read up to the unit's end


@pytest.mark.parametrize("which", [0, 1, 2])
def test_same_rows_order_and_bits_as_local(sample, ray_cluster, which):
    loco = LocomotionData(sample[which])
    said = []
    with warnings.catch_warnings(record=True) as w:  # the CSV's empty cells: read as NaN, said once
        warnings.simplefilter("always")
        local = loco.cycle_features(output="arrow")
        said.append([str(x.message) for x in w])
        for unit_rows in (1, 3000):
            w.clear()
            assert_identical(loco.cycle_features(output="arrow", executor="ray", unit_rows=unit_rows), local)
            said.append([str(x.message) for x in w])
    # Said as locally (the columns named may differ: a CSV block's type inference decides which
    # empty cells arrive as nulls; the values are the same NaNs either way, as checked above).
    assert [bool(x) for x in said] == [which == 2] * 3
    assert loco.last_run.cycles == local.num_rows
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said above
        flags = loco.cycle_features(output="arrow", fail_flags=True, outliers_among="all", executor="ray",
                                    unit_rows=2000)
        assert_identical(flags, loco.cycle_features(output="arrow", fail_flags=True, outliers_among="all"))


@pytest.mark.parametrize("which", [0, 1])
def test_cli_parquet_and_npy_identical(sample, ray_cluster, tmp_path, which):
    for suffix in (".parquet", ".npy"):
        a, b = tmp_path / f"local{suffix}", tmp_path / f"ray{suffix}"
        assert main(["gait", "features", str(sample[which]), "-o", str(a), "-q"]) == 0
        assert main(["gait", "features", str(sample[which]), "-o", str(b), "-q", "--ray", ray_cluster.address,
                     "--unit-rows", "2000"]) == 0
        assert_same_files(a, b)


def test_worker_killed_mid_unit(sample, ray_cluster):
    loco = LocomotionData(sample[0])
    local = loco.cycle_features(output="arrow")
    control = kill_next_writer()
    assert_identical(loco.cycle_features(output="arrow", executor="ray", unit_rows=2000), local)
    assert len(list(control.glob("killed-*"))) == 1  # a worker died (SIGKILL) mid-unit; Ray ran it again


KILLED_DRIVER = """
import os, signal, sys
import pyarrow.ipc
from cadence.cli import main
opened = pyarrow.ipc.open_stream
def open_or_die(data):  # the driver dies once the first unit's batches are in the output
    pyarrow.ipc.open_stream = opened
    yield from opened(data)
    os.kill(os.getpid(), signal.SIGKILL)
pyarrow.ipc.open_stream = open_or_die
sys.exit(main(sys.argv[1:]))
"""


def test_driver_killed_leaves_the_old_output(sample, ray_cluster, tmp_path):
    out = tmp_path / "f.parquet"
    out.write_bytes(b"the previous output")
    args = ["gait", "features", str(sample[0]), "-o", str(out), "-q", "--ray", ray_cluster.address,
            "--unit-rows", "2000"]
    killed = subprocess.run([sys.executable, "-c", KILLED_DRIVER, *args], capture_output=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert out.read_bytes() == b"the previous output"
    assert main(args) == 0
    assert main(["gait", "features", str(sample[0]), "-o", str(tmp_path / "local.parquet"), "-q"]) == 0
    assert_identical(pq.read_table(out), pq.read_table(tmp_path / "local.parquet"))


def test_bad_input_refused_as_locally(sample, ray_cluster, tmp_path, capsys):
    loco = LocomotionData(sample[0])
    for kw in ({}, {"executor": "ray"}):
        with pytest.raises(ValueError, match="no column") as unknown:
            loco.cycle_features(["no_such_angle"], output="arrow", **kw)
        with pytest.raises(ValueError, match="too small") as small:
            loco.cycle_features(output="arrow", memory_limit="4K", **kw)
        if not kw:
            messages = (str(unknown.value), str(small.value))
    assert (str(unknown.value), str(small.value)) == messages
    for extra in ([], ["--ray", ray_cluster.address]):
        assert main(["gait", "features", str(tmp_path / "none.parquet"), "-o", str(tmp_path / "o.parquet"), *extra]) == 2
        assert main(["gait", "features", str(sample[0]), "-o", str(tmp_path / "o.parquet"), "--features", "nope",
                     *extra]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == err[2:4] and all(line.startswith("cadence: error: ") for line in err)
    assert main(["gait", "features", str(sample[0]), "-o", str(tmp_path / "o.parquet"), "--unit-rows", "9"]) == 2
    assert not (tmp_path / "o.parquet").exists()


FAILING_RUNS = """
import sys, ray
from cadence.gait import LocomotionData
ray.init(address=sys.argv[2], log_to_driver=False)
loco = LocomotionData(sys.argv[1], verbose=False)
for _ in range(int(sys.argv[3])):
    try:
        loco.cycle_features(output="arrow", memory_limit="4K", executor="ray", unit_rows=1000)
    except ValueError as e:
        assert "too small" in str(e), e
    else:
        sys.exit("no error")
print("ok")
"""


def test_every_unit_failing_at_once_leaves_the_driver_alive(sample, ray_cluster):
    """All 14 units fail together, run after run: stopping the others once raced with their
    replies, and Ray's driver aborted (exit 1, nothing printed; 1 in ~10 runs). In a driver of
    its own, so that such an abort fails this test rather than ending the test session."""
    run = subprocess.run([sys.executable, "-c", FAILING_RUNS, str(sample[0]), ray_cluster.address, "25"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]
    assert "Unhandled error" not in run.stderr  # the other units' errors were read, not left to Ray


def test_without_ray_says_how_to_install(sample, tmp_path):
    out = tmp_path / "o.parquet"
    cli = without_ray(CLI, "gait", "features", str(sample[0]), "-o", str(out), "--ray")
    assert cli.returncode == 2 and "pip install 'cadence[ray]'" in cli.stderr and "Traceback" not in cli.stderr
    api = without_ray("from cadence.gait import LocomotionData\n" + import_error_of(
        "LocomotionData(sys.argv[1]).cycle_features(output='arrow', executor='ray')"), str(sample[0]))
    assert api.returncode == 0 and "pip install 'cadence[ray]'" in api.stdout, api.stderr
    assert not out.exists()


# FILE and OUT as URIs (pyarrow's filesystems): file:// takes the code path of s3:// and gs://
# (the tasks read their row groups from the filesystem; OUT is put whole when written).
def uri(path) -> str:
    return path.absolute().as_uri()


def test_uri_unit_reads_only_its_row_groups_there(sample, monkeypatch):
    import base64

    from cadence.gait import ray_executor

    asked = []
    read = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(pq.ParquetFile, "read_row_groups",
                        lambda self, groups, **kw: asked.append(list(groups)) or read(self, groups, **kw))
    schema = pq.read_schema(sample[0])
    spec = {"uri": uri(sample[0]), "path": "/driver/copy/g.parquet", "file_type": "parquet", "subject_col": "subject",
            "task_col": "task", "phase_col": "phase_ipsi", "step_col": "step", "features": ["knee_flexion_angle_ipsi_rad"],
            "num_rows": 13650, "schema": base64.b64encode(schema.serialize().to_pybytes()).decode()}
    gfile, part = ray_executor._read_remote(spec, 2400, 4650)
    assert asked == [[2, 3, 4]] and str(gfile.path) == "/driver/copy/g.parquet"  # messages name the driver's
    whole = pq.read_table(sample[0], columns=part.column_names)
    assert part.equals(whole.slice(2400, 2250)) and "subject" in part.column_names


def test_uri_file_and_out_identical(sample, ray_cluster, tmp_path):
    from cadence.gait import ray_executor

    local = LocomotionData(sample[0]).cycle_features(output="arrow")
    assert_identical(ray_executor.cycle_features(uri(sample[0]), output="arrow", unit_rows=3000), local)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the CSV's empty cells, said as locally
        assert_identical(ray_executor.cycle_features(uri(sample[2]), output="arrow", unit_rows=3000),
                         LocomotionData(sample[2]).cycle_features(output="arrow"))
    out = tmp_path / "sub" / "f.parquet"
    assert ray_executor.cycle_features(uri(sample[1]), output="parquet", path=uri(out), unit_rows=2000) == uri(out)
    LocomotionData(sample[1]).cycle_features(output="parquet", path=tmp_path / "split.parquet")
    assert_identical(pq.read_table(out), pq.read_table(tmp_path / "split.parquet"))
    for suffix in (".parquet", ".npy"):
        a, b = tmp_path / f"local{suffix}", tmp_path / f"ray{suffix}"
        assert main(["gait", "features", str(sample[0]), "-o", str(a), "-q"]) == 0
        b.with_suffix(".drops.csv").write_text("an earlier run's drop log")
        assert main(["gait", "features", uri(sample[0]), "-o", uri(b), "-q", "--ray", ray_cluster.address,
                     "--unit-rows", "2000"]) == 0
        assert_same_files(a, b)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_uri_worker_killed_mid_unit(sample, ray_cluster):
    from cadence.gait import ray_executor

    local = LocomotionData(sample[0]).cycle_features(output="arrow")
    control = kill_next_writer()
    assert_identical(ray_executor.cycle_features(uri(sample[0]), output="arrow", unit_rows=2000), local)
    assert len(list(control.glob("killed-*"))) == 1


def test_uri_bad_input_refused_as_locally(sample, ray_cluster, tmp_path, capsys):
    from cadence.gait import ray_executor

    for file in (sample[0], uri(sample[0])):
        with pytest.raises(ValueError, match="no column") as unknown:
            ray_executor.cycle_features(file, ["no_such_angle"])
    assert str(unknown.value).startswith(f"{uri(sample[0])}: no column")  # named by its URI
    ray = ["--ray", ray_cluster.address]
    o = uri(tmp_path / "o.parquet")
    assert main(["gait", "features", uri(tmp_path / "none.parquet"), "-o", o, *ray]) == 2
    assert main(["gait", "features", uri(sample[0]), "-o", o, "--features", "nope", *ray]) == 2
    assert main(["gait", "features", uri(sample[0]), "-o", o]) == 2  # a URI without --ray
    assert main(["gait", "features", uri(sample[0]), "-o", uri(tmp_path / "o.txt"), *ray]) == 2
    assert main(["gait", "features", "nofs://x/g.parquet", "-o", o, *ray]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 5 and all(line.startswith("cadence: error: ") for line in err), err
    assert f"{uri(tmp_path / 'none.parquet')}: no such file" in err[0]
    assert err[1].startswith(f"cadence: error: {uri(sample[0])}: no feature column 'nope'")
    assert "goes with --ray" in err[2] and "must end in .parquet or .npy" in err[3]
    assert "nofs://x/g.parquet: not a filesystem pyarrow can open" in err[4]
    assert main(["gait", "features", uri(sample[0]), "-o", o, "--cache", str(tmp_path / "c"), *ray]) == 2
    assert "--cache keys on a local FILE" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
