"""`cadence drums prepare --ray` on a local 2-node Ray cluster: the records of a local run, also
when a task's worker is killed mid-unit or the driver is killed and the run resumed."""

import csv
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cluster_support import CLI, import_error_of, kill_next_writer, without_ray

from cadence import cluster, drums
from cadence.cli import main


def records(out: Path) -> dict[str, pa.Table]:
    """Every table of a prepared directory, shards in order, each stored audio as its bytes
    (not an offset into a shard's blob file): what a reader gets, whatever the shard cut."""
    manifest = json.loads((out / "manifest.json").read_text())
    tables: dict[str, list[pa.Table]] = {}
    for shard in manifest["shards"]:
        for name in sorted(shard["files"]):
            if not name.endswith(".parquet"):
                continue
            t = pq.read_table(out / name)
            if "audio_offset" in t.column_names:
                blob = (out / f"audio-{shard['shard']:05d}.bin").read_bytes()
                audio = [blob[o:o + n] for o, n in zip(t.column("audio_offset").to_pylist(),
                                                       t.column("audio_bytes").to_pylist())]
                t = t.drop_columns(["audio_offset"]).append_column("audio", pa.array(audio, pa.large_binary()))
            tables.setdefault(name.split("-")[0], []).append(t)
    return {kind: pa.concat_tables(ts) for kind, ts in tables.items()}


def assert_same_output(mine: Path, local: Path) -> None:
    a, b = records(mine), records(local)
    assert sorted(a) == sorted(b)
    for kind in a:
        assert a[kind].num_rows == b[kind].num_rows > 0, kind
        assert a[kind].equals(b[kind]), kind
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (mine, local))
    # Each input's status, reason and notes are the local run's; its shard number depends on the cut.
    def status(m):
        return {k: {f: v for f, v in s.items() if f != "shard"} for k, s in m["inputs"].items()}

    assert status(ma) == status(mb) and ma["records"] == mb["records"] and ma["config"] == mb["config"]
    assert (mine / "rejects.csv").read_text() == (local / "rejects.csv").read_text()
    assert not (mine / ".ray-units").exists()  # no attempt's files left behind
    assert not drums.verify(mine)


@pytest.fixture(scope="module")
def corpus(drum_corpus, tmp_path_factory):
    """The sample corpus plus two bad inputs (a truncated WAV, a MIDI that is not one), so that
    rejects travel through the cluster too; and its local run, the reference."""
    root = tmp_path_factory.mktemp("ray") / "egmd"
    shutil.copytree(drum_corpus, root)
    with open(root / "e-gmd-v1.0.0.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    wav = root / rows[2]["audio_filename"]
    wav.write_bytes(wav.read_bytes()[:100])
    (root / rows[5]["midi_filename"]).write_bytes(b"not a MIDI file")
    local = root.parent / "local"
    drums.prepare(root, local, show_progress=False)
    return root, local, rows


def pair_copy(corpus, tmp_path) -> Path:
    root = tmp_path / "egmd"
    shutil.copytree(corpus[0], root)
    return root


def test_same_records_as_local_on_two_nodes(corpus, ray_cluster, tmp_path):
    root, local, rows = corpus
    out = tmp_path / "out"
    report = drums.prepare(root, out, executor="ray", unit_inputs=3, show_progress=False)
    assert_same_output(out, local)
    assert report["executor"] == "ray" and report["units"] == 3 == sum(n["units"] for n in report["nodes"].values())
    assert report["rejected"] == {"bad_audio": 1, "bad_midi": 1}
    assert sum(n["inputs"] for n in report["nodes"].values()) == len(rows)
    for node in report["nodes"].values():  # per-node stage timers
        assert set(node["stages_s"]) >= {"midi", "decode", "encode"} and node["jobs"] == 1
    assert report["records"] == json.loads((local / "report.json").read_text())["records"]


def test_clips_layout_and_one_input_per_unit(drum_corpus, ray_cluster, tmp_path):
    local, out = tmp_path / "local", tmp_path / "ray"
    drums.prepare(drum_corpus, local, layout="clips", codec="flac", clip_s=0.5, show_progress=False)
    drums.prepare(drum_corpus, out, layout="clips", codec="flac", clip_s=0.5, executor="ray", unit_inputs=1,
                  show_progress=False)
    assert_same_output(out, local)
    assert len(json.loads((out / "manifest.json").read_text())["shards"]) == 8  # one per unit


def test_worker_killed_mid_unit(corpus, ray_cluster, tmp_path):
    control = kill_next_writer()
    drums.prepare(corpus[0], tmp_path / "out", executor="ray", unit_inputs=2, show_progress=False)
    # A worker died (SIGKILL) with a shard written under its temporary name; Ray ran the unit again.
    assert len(list(control.glob("killed-*"))) == 1 and not (control / "kill-next").exists()
    assert_same_output(tmp_path / "out", corpus[1])


# The driver, killed by SIGKILL right after its second commit (store.fault_hook, in its process).
KILLED_DRIVER = """
import os, signal, sys
from cadence.cli import main
from cadence.drums import store
commits = 0
def hook(point, **_):
    global commits
    if point == "after_commit":
        commits += 1
        if commits == 2:
            os.kill(os.getpid(), signal.SIGKILL)
store.fault_hook = hook
sys.exit(main(sys.argv[1:]))
"""


def test_driver_killed_then_resumed(corpus, ray_cluster, tmp_path):
    out = tmp_path / "out"
    args = ["drums", "prepare", str(corpus[0]), str(out), "--ray", ray_cluster.address, "--unit-inputs", "2", "-q"]
    killed = subprocess.run([sys.executable, "-c", KILLED_DRIVER, *args], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _commits(out) == 2 and not (out / "manifest.json").exists()
    assert main([*args, "--resume"]) == 0
    assert_same_output(out, corpus[1])
    report = json.loads((out / "report.json").read_text())
    assert report["inputs_this_run"] == 4 and report["units"] == 2 and len(report["segments"]) == 1


def _commits(out: Path) -> int:
    try:
        lines = (out / drums.JOURNAL).read_text().splitlines()
    except FileNotFoundError:
        return 0
    return sum('"type": "commit"' in line for line in lines)


def test_bad_input_refused_as_locally(drum_corpus, ray_cluster, tmp_path, capsys):
    for extra in ([], ["--ray", ray_cluster.address]):
        assert main(["drums", "prepare", str(tmp_path / "nowhere"), str(tmp_path / "o"), *extra]) == 2
        assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--limit", "-1", *extra]) == 2
        assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--kits", "No Kit", "-q", *extra]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == err[3:6] and all(line.startswith("cadence: error: ") for line in err)
    assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--ray", "--unit-inputs", "0"]) == 2
    assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--unit-inputs", "2"]) == 2
    err = capsys.readouterr().err
    assert "--unit-inputs 0: must be a whole number >= 1" in err and "--unit-inputs goes with --ray" in err
    assert not (tmp_path / "o").exists()


def test_without_ray_says_how_to_install(drum_corpus, tmp_path):
    out = tmp_path / "o"
    cli = without_ray(CLI, "drums", "prepare", str(drum_corpus), str(out), "--ray")
    assert cli.returncode == 2 and "pip install 'cadence[ray]'" in cli.stderr and "Traceback" not in cli.stderr
    api = without_ray("from cadence import drums\n" + import_error_of(
        "drums.prepare(sys.argv[1], sys.argv[2], executor='ray')"), str(drum_corpus), str(out))
    assert api.returncode == 0 and "pip install 'cadence[ray]'" in api.stdout, api.stderr
    assert not out.exists()


def test_small_shards_report_every_reject(corpus, ray_cluster, tmp_path):
    """Many shards: the report counts the rejects committed with every shard, as rejects.csv does
    (a commit's list of rejects was once emptied after its line was written)."""
    for kw in ({}, {"executor": "ray", "unit_inputs": 3}):
        out = tmp_path / kw.get("executor", "local")
        report = drums.prepare(corpus[0], out, shard_size="1K", show_progress=False, **kw)
        with open(out / "rejects.csv", newline="") as f:
            reasons = sorted(r["reason"] for r in csv.DictReader(f))
        assert reasons == ["bad_audio", "bad_midi"]
        assert report["rejected"] == {"bad_audio": 1, "bad_midi": 1}
        assert len(json.loads((out / "manifest.json").read_text())["shards"]) >= 6
    assert_same_output(tmp_path / "ray", tmp_path / "local")


# ROOT and OUT as URIs (pyarrow's filesystems): file:// takes the code path of s3:// and gs://
# (inputs fetched per task, shards put under temporary names, the journal put whole per commit).
def uri(path: Path) -> str:
    return path.absolute().as_uri()


def same_rejects_as_local(mine: Path, local: Path, root: Path) -> None:
    """rejects.csv names ROOT by its URI where a local run names its path."""
    text = (mine / "rejects.csv").read_text()
    assert uri(root) in text
    assert text.replace(uri(root), str(root)) == (local / "rejects.csv").read_text()


def test_uri_root_and_out_same_records_as_local(corpus, ray_cluster, tmp_path, monkeypatch):
    root, local, rows = corpus
    out = tmp_path / "out"
    report = drums.prepare(uri(root), uri(out), executor="ray", unit_inputs=3, show_progress=False)
    assert report["units"] == 3 and report["rejected"] == {"bad_audio": 1, "bad_midi": 1}
    same_rejects_as_local(out, local, root)
    shutil.copy(local / "rejects.csv", out / "rejects.csv")
    assert_same_output(out, local)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temporary left
    # Either alone, from the command line too.
    assert main(["drums", "prepare", uri(root), str(tmp_path / "o2"), "--ray", ray_cluster.address,
                 "--unit-inputs", "4", "-q"]) == 0
    assert main(["drums", "prepare", str(root), uri(tmp_path / "o3"), "--ray", ray_cluster.address,
                 "--unit-inputs", "4", "-q"]) == 0
    same_rejects_as_local(tmp_path / "o2", local, root)
    shutil.copy(local / "rejects.csv", tmp_path / "o2" / "rejects.csv")
    for o in ("o2", "o3"):
        assert_same_output(tmp_path / o, local)


def test_uri_root_without_a_csv_pairs_its_files_as_locally(drum_corpus, ray_cluster, tmp_path):
    """A ROOT of MIDI and audio files and no E-GMD CSV: pairs found by the local scan, on the
    driver's mirror of the listing; each task then fetches its pairs from the URI."""
    root = tmp_path / "plain"
    shutil.copytree(drum_corpus, root, ignore=shutil.ignore_patterns("*.csv"))
    local = tmp_path / "local"
    drums.prepare(root, local, show_progress=False)
    out = tmp_path / "out"
    report = drums.prepare(uri(root), uri(out), executor="ray", unit_inputs=3, show_progress=False)
    assert report["files_ok"] == 8 and report["units"] == 3
    assert_same_output(out, local)


@pytest.mark.parametrize("layout, options", [("enst", {}), ("slakh", {"audio": "drums"})])
def test_uri_root_of_another_dataset_same_records_as_local(layout, options, ray_cluster, tmp_path):
    """Text annotations (ENST) and several MIDI and audio files a pair (Slakh's drum stems) from a
    URI ROOT: the driver lists the Corpus on its filesystem, each task fetches its pairs' files."""
    from cadence.sample import layouts

    layouts.generate(layout, tmp_path / "sample")
    root = tmp_path / "sample" / layouts.TOP_FOLDERS[layout]
    local = tmp_path / "local"
    drums.prepare(root, local, show_progress=False, **options)
    out = tmp_path / "out"
    report = drums.prepare(uri(root), uri(out), executor="ray", unit_inputs=2, show_progress=False, **options)
    assert report["files_ok"] >= 3 and report["units"] == 2
    assert_same_output(out, local)


def test_uri_worker_killed_mid_unit(corpus, ray_cluster, tmp_path):
    control = kill_next_writer()
    out = tmp_path / "out"
    drums.prepare(uri(corpus[0]), uri(out), executor="ray", unit_inputs=2, show_progress=False)
    # The worker died with a shard whole in its node-local directory; the retry ran the unit again
    # and removed that directory (its process is gone).
    (killed,) = [int(p.name.split("-")[1]) for p in control.glob("killed-*")]
    assert not list((Path(tempfile.gettempdir()) / cluster.NODE_TMP).glob(f"unit-{killed}-*"))
    same_rejects_as_local(out, corpus[1], corpus[0])
    shutil.copy(corpus[1] / "rejects.csv", out / "rejects.csv")
    assert_same_output(out, corpus[1])


def test_uri_driver_killed_then_resumed(corpus, ray_cluster, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["drums", "prepare", uri(corpus[0]), uri(out), "--ray", ray_cluster.address, "--unit-inputs", "2", "-q"]
    killed = subprocess.run([sys.executable, "-c", KILLED_DRIVER, *args], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _commits(out) == 2 and not (out / "manifest.json").exists()  # the journal put after each commit
    (out / "onsets-00099.parquet").write_bytes(b"an uncommitted shard")  # removed by the resumed run
    assert main([*args, "--resume"]) == 0
    assert not (out / "onsets-00099.parquet").exists()
    shutil.copy(corpus[1] / "rejects.csv", out / "rejects.csv")
    assert_same_output(out, corpus[1])
    report = json.loads((out / "report.json").read_text())
    assert report["inputs_this_run"] == 4 and report["units"] == 2
    assert any("onsets-00099.parquet" in r for r in report["recovered"])
    assert main(args) == 2  # prepared already: refused without --resume, naming the URI
    assert f"cadence: error: {uri(out)} already holds a prepared dataset; pass --resume" in capsys.readouterr().err


def test_uri_bad_input_refused_as_locally(drum_corpus, ray_cluster, tmp_path, capsys):
    ray = ["--ray", ray_cluster.address]
    o = uri(tmp_path / "o")
    assert main(["drums", "prepare", uri(tmp_path / "nowhere"), o, *ray]) == 2
    assert main(["drums", "prepare", uri(drum_corpus), o, "--limit", "-1", *ray]) == 2
    assert main(["drums", "prepare", uri(drum_corpus), o, "--kits", "No Kit", "-q", *ray]) == 2
    assert main(["drums", "prepare", uri(drum_corpus), o]) == 2  # a URI without --ray
    assert main(["drums", "prepare", "nofs://x/y", o, *ray]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 5 and all(line.startswith("cadence: error: ") for line in err)
    assert f"{uri(tmp_path / 'nowhere')}: dataset root not found" in err[0] and "No Kit" in err[2]
    assert "goes with --ray" in err[3] and "nofs://x/y: not a filesystem pyarrow can open" in err[4]
    # The same messages as a local run's, ROOT named by its URI.
    assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--limit", "-1"]) == 2
    assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "o"), "--kits", "No Kit", "-q"]) == 2
    assert [line.replace(uri(drum_corpus), str(drum_corpus)) for line in err[1:3]] == \
        capsys.readouterr().err.splitlines()
    assert not (tmp_path / "o").exists()
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("not a prepared dataset")
    assert main(["drums", "prepare", uri(drum_corpus), o, "-q", *ray]) == 2
    assert f"{o} is not empty and holds no journal.jsonl" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["notes.txt"]
    assert main(["drums", "prepare", uri(drum_corpus), uri(tmp_path / "o2"), "--monitor", *ray]) == 2
    assert "--monitor writes beside a local OUT" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


class ObjectStore:
    """A local directory seen as S3 sees a bucket: no rename (a move is a copy then a delete), and
    every write of an object recorded, so that a test sees what a commit puts and in what order."""

    type_name = "s3"

    def __init__(self):
        import pyarrow.fs as pafs

        self.fs, self.puts = pafs.LocalFileSystem(), []

    def open_output_stream(self, path):
        self.puts.append(Path(path).name)
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # a bucket has no directories to make
        return self.fs.open_output_stream(path)

    def move(self, src, dst):
        self.puts.append(Path(dst).name)  # a server-side copy writes the object
        self.fs.copy_file(src, dst)
        self.fs.delete_file(src)

    def __getattr__(self, name):  # reads, listings and deletes as the local file system's
        return getattr(self.fs, name)


def test_object_store_commit_and_recovery(tmp_path, monkeypatch):
    """On an object store a commit is the journal's PUT: shards moved before a driver died but not
    listed by a PUT are removed on --resume, and a listed shard of the wrong size is redone."""
    from cadence.drums import ray_executor
    from cadence.drums import store as store_mod

    bucket, out = ObjectStore(), tmp_path / "bucket" / "out"
    remote = type("RemoteStore", (ray_executor._RemoteStore,), {"fs": bucket, "base": str(out), "uri": "s3://b/out"})
    config = {"shard_bytes": 1000}
    store = remote.open(tmp_path / "staging1", config, resume=False)
    assert bucket.puts == [drums.JOURNAL] and (out / drums.JOURNAL).is_file()  # one PUT, no temporary

    def unit_file(name: str, data: bytes) -> tuple[str, dict]:
        src = tmp_path / "bucket" / "out" / ".ray-units" / "u1" / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(data)
        return str(src), {"rows": 1, "bytes": len(data), "sha256": "-"}

    store.adopt(0, {"onsets-00000.parquet": unit_file("a.parquet", b"x" * 10)}, ["p0"], [])
    store.adopt(1, {"onsets-00001.parquet": unit_file("b.parquet", b"y" * 20)}, ["p1"], [])
    # Each commit: the shard at its name, then the journal listing it, put whole.
    j = drums.JOURNAL
    assert bucket.puts == [j, "onsets-00000.parquet", j, "onsets-00001.parquet", j]
    assert not list((out / ".ray-units" / "u1").iterdir())

    def die(point, **_):
        if point == "before_journal":
            raise KeyboardInterrupt  # the driver dies between the move and the journal's PUT

    monkeypatch.setattr(store_mod, "fault_hook", die)
    with pytest.raises(KeyboardInterrupt):
        store.adopt(2, {"onsets-00002.parquet": unit_file("c.parquet", b"z" * 30)}, ["p2"], [])
    monkeypatch.setattr(store_mod, "fault_hook", None)
    assert (out / "onsets-00002.parquet").is_file()  # at its name, but never listed
    (out / "onsets-00001.parquet").write_bytes(b"y" * 5)  # a listed shard damaged on the store

    staging = tmp_path / "staging2"  # a new driver: the journal object is all it has
    staging.mkdir()
    (staging / drums.JOURNAL).write_bytes((out / drums.JOURNAL).read_bytes())
    resumed = remote.open(staging, config, resume=True)
    assert resumed.done_ids == {"p0"}
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [drums.JOURNAL, "onsets-00000.parquet"]
    assert any("shard 1 dropped" in r for r in resumed.recovered)
    assert any("removed uncommitted onsets-00002.parquet" in r for r in resumed.recovered)
    assert (out / drums.JOURNAL).read_bytes() == (staging / drums.JOURNAL).read_bytes()  # put whole again
    assert sum('"type": "commit"' in line for line in (out / drums.JOURNAL).read_text().splitlines()) == 1
