"""drums.mix (issue 19, point 5): draws across prepared directories by probability, as ADTOF
trains on several datasets. The draws' proportions follow the weights (a binomial check with a
fixed seed), each dataset's stream is whole block-shuffled passes, the same seed and epoch give
the same batches (in process and through DataLoader workers), shards split every dataset, and
datasets that cannot share a batch are refused by name. The corpora are the ENST, MDB and Slakh
sample layouts, prepared through the command line as a user would."""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest

from cadence import drums
from cadence.cli import main
from cadence.sample import layouts

NAMES = ("enst", "mdb", "slakh")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """{name: prepared directory} for three layouts (index layout, adtof5 classes), and MDB once
    more with gmd9 classes (for the refusal)."""
    base = tmp_path_factory.mktemp("mix")
    out = {}
    for name in NAMES:
        assert main(["sample", "drums", "--layout", name, str(base / name), "-q"]) == 0
        root = base / name / layouts.TOP_FOLDERS[name]
        assert main(["drums", "prepare", str(root), str(base / f"{name}-out"), "--mapping", "adtof5", "--jobs", "2",
                     "-q"]) == 0
        out[name] = base / f"{name}-out"
    assert main(["drums", "prepare", str(base / "mdb" / layouts.TOP_FOLDERS["mdb"]), str(base / "mdb-gmd9"),
                 "--mapping", "gmd9", "--jobs", "2", "-q"]) == 0
    out["mdb-gmd9"] = base / "mdb-gmd9"
    for name, options in (("mdb-clips", ["--layout", "clips"]), ("mdb-16k", ["--sample-rate", "16000"]),
                          ("enst-clips", ["--layout", "clips"])):
        layout = name.split("-")[0]
        assert main(["drums", "prepare", str(base / layout / layouts.TOP_FOLDERS[layout]), str(base / name),
                     "--mapping", "adtof5", "--jobs", "2", "-q", *options]) == 0
        out[name] = base / name
    return out


@pytest.fixture(scope="module")
def records(prepared):
    return {name: drums.open(prepared[name], jobs=1) for name in NAMES}


@pytest.fixture(scope="module")
def sequences(prepared):
    return {name: drums.open(prepared[name], mode="sequences", length_s=1.0, jobs=1) for name in NAMES}


def _binomial_ok(count: int, n: int, p: float, sds: float = 4.0) -> bool:
    """count within `sds` binomial standard deviations of n * p (4 sd: a fixed seed passing it is
    not luck to be lost on a rerun; a wrong proportion of 1 % at n = 60,000 is 8 sd away)."""
    return abs(count - n * p) <= sds * np.sqrt(n * p * (1 - p))


# ---- probabilities ------------------------------------------------------------------------------

def test_draws_follow_the_weights(records):
    n = 60_000
    m = drums.mix(records, weights={"enst": 1, "mdb": 2, "slakh": 5}, length=n, seed=3)
    assert m.probabilities == pytest.approx({"enst": 1 / 8, "mdb": 2 / 8, "slakh": 5 / 8})
    which, position = m.draws()
    counts = np.bincount(which, minlength=3)
    assert counts.sum() == n == len(m)
    for k, name in enumerate(m.names):
        assert _binomial_ok(counts[k], n, m.probabilities[name]), (name, counts[k], n * m.probabilities[name])
        # each dataset's stream is whole passes: every record drawn floor or ceil of count / size times
        times = np.bincount(position[which == k], minlength=len(records[name]))
        assert len(times) == len(records[name]) and times.max() - times.min() <= 1, name
    # a sequence of weights is the same as a mapping in the datasets' order
    same = drums.mix(records, weights=[1, 2, 5], length=n, seed=3)
    assert np.array_equal(same.draws()[0], which) and np.array_equal(same.draws()[1], position)


def test_default_weights_and_epoch_length(records):
    sizes = np.array([len(records[n]) for n in NAMES], float)
    m = drums.mix(records)
    expected = sizes ** 0.7 / (sizes ** 0.7).sum()  # ADTOF's regulateSamplingProbability
    assert list(m.probabilities.values()) == pytest.approx(expected.tolist())
    assert len(m) == sizes.sum()  # one epoch draws as many items as the datasets hold
    assert list(drums.mix(records, alpha=1).probabilities.values()) == pytest.approx((sizes / sizes.sum()).tolist())
    assert list(drums.mix(records, alpha=0).probabilities.values()) == pytest.approx([1 / 3] * 3)
    # a dataset left out by weight 0: never drawn, and not counted in the epoch
    m = drums.mix(records, weights={"enst": 0, "mdb": 1, "slakh": 1}, length=None)
    assert len(m) == sizes[1:].sum() and 0 not in m.draws()[0]


def test_each_stream_is_block_shuffled(records):
    """With blocks of 8 records and no window mixing, each run of 8 consecutive draws of a
    dataset's stream is one block of 8 consecutive records (the last block may be short)."""
    m = drums.mix(records, length=2000, seed=5, block_records=8, window_blocks=1)
    which, position = m.draws()
    for k, name in enumerate(m.names):
        stream = position[which == k][:len(records[name])]
        assert sorted(stream.tolist()) == list(range(len(records[name])))
        starts = np.flatnonzero(np.diff(stream // 8) != 0) + 1
        for run in np.split(stream, starts):
            assert len(set((run // 8).tolist())) == 1 and len(run) == len(set(run.tolist()))
            assert len(run) == 8 or run.max() // 8 == (len(records[name]) - 1) // 8


# ---- reading -------------------------------------------------------------------------------------

def test_batches_are_the_underlying_reads_in_draw_order(records):
    m = drums.mix(records, seed=2)
    indices = np.arange(len(m))
    batch = m.read_batch(indices)
    which, position = m.draws()
    assert np.array_equal(batch["dataset_index"], which)
    assert len(set(which.tolist())) == 3  # the batch mixes all three
    for j in indices:
        ds = records[m.names[which[j]]]
        one = ds.read_batch([position[j]])
        for key in ("audio", "classes", "class_velocity", "index", "onset_s", "onset_sample", "sample_rate_hz"):
            np.testing.assert_array_equal(batch[key][j], one[key][0], err_msg=key)
        h = batch["hit_offsets"]
        assert batch["pitches"][h[j]:h[j + 1]].tolist() == one["pitches"].tolist()
        assert batch["velocities"][h[j]:h[j + 1]].tolist() == one["velocities"].tolist()
    items = m.__getitems__(indices[:40])
    assert items.strings["dataset"] == [m.names[k] for k in which[:40]]
    assert items.strings["record_id"] == [records[m.names[which[j]]].__getitems__([position[j]]).strings["record_id"][0]
                                          for j in range(40)]
    np.testing.assert_array_equal(items.arrays["audio"], batch["audio"][:40])
    item = m[7]
    assert item["dataset"] == m.names[which[7]] and item["record_id"] == items.strings["record_id"][7]
    np.testing.assert_array_equal(item["audio"], batch["audio"][7])
    assert len(list(m)) == len(m) and sum(len(b["index"]) for b in m.iter_batches(64)) == len(m)


def test_the_same_seed_and_epoch_give_the_same_draws(records):
    a, b = drums.mix(records, seed=11), drums.mix(records, seed=11)
    first = a.read_batch(range(100))
    for key, value in b.read_batch(range(100)).items():
        np.testing.assert_array_equal(value, first[key], err_msg=key)
    a.set_epoch(1)
    assert not np.array_equal(a.draws()[0], b.draws()[0])
    b.set_epoch(1)
    assert np.array_equal(a.draws()[0], b.draws()[0]) and np.array_equal(a.draws()[1], b.draws()[1])
    c = drums.mix(records, seed=12)
    assert not np.array_equal(c.draws()[0], drums.mix(records, seed=11).draws()[0])


def test_sequences_mode(sequences):
    m = drums.mix(sequences, weights={"enst": 1, "mdb": 1, "slakh": 2}, length=90, seed=4)
    assert m.mode == "sequences"
    batch = m.__getitems__(range(len(m)))
    assert type(batch).__name__ == "SequenceBatch" and len(batch) == 90
    which, position = m.draws()
    for j in range(0, 90, 7):
        one = sequences[m.names[which[j]]].read_batch([position[j]])
        for key in ("audio", "onset_roll", "velocity_roll", "index", "file", "start_sample"):
            np.testing.assert_array_equal(batch.arrays[key][j], one[key][0], err_msg=key)
        assert batch.strings["dataset"][j] == m.names[which[j]]
        own = sequences[m.names[which[j]]].__getitems__([position[j]])
        assert batch.strings["pair_id"][j] == own.strings["pair_id"][0]
    assert batch.arrays["onset_roll"].shape == (90, m.datasets["enst"].n_frames, 5)
    # random window offsets follow the mix's epoch
    rand = {n: drums.open(d.path, mode="sequences", length_s=1.0, offsets="random", jobs=1)
            for n, d in sequences.items()}
    r = drums.mix(rand, length=30, seed=4)
    r.set_epoch(3)
    assert all(d.epoch == 3 for d in rand.values())
    starts = r.read_batch(range(30))["start_sample"]
    which, position = r.draws()
    assert starts.tolist() == [int(rand[r.names[k]].starts([p])[0]) for k, p in zip(which, position)]


# ---- shards ---------------------------------------------------------------------------------------

def test_shards_split_every_dataset(records, sequences):
    m = drums.mix(records, seed=6)
    for drop_last in (True, False):
        ranks = [m.shard(r, 3, drop_last=drop_last) for r in range(3)]
        assert {len(s) for s in ranks} == {-(-len(m) // 3)}
        for name in NAMES:
            ids = [set(s.datasets[name].labels.column("record_id").to_pylist()) for s in ranks]
            every = set(records[name].labels.column("record_id").to_pylist())
            if drop_last:  # disjoint; only the remainder of a division by 3 left out
                assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2]), name
                assert len(every - set.union(*ids)) == len(every) % 3
            else:  # every record in some rank; equal lengths by repeating the first ones
                assert set.union(*ids) == every
        for r, s in enumerate(ranks):  # each rank draws only its own records
            drawn = set(s.__getitems__(range(len(s))).strings["record_id"])
            own = set().union(*(set(s.datasets[n].labels.column("record_id").to_pylist()) for n in NAMES))
            assert drawn <= own
        assert not np.array_equal(ranks[0].draws()[0], ranks[1].draws()[0])  # each rank its own stream
    sq = drums.mix(sequences, length=60)

    def files(mix) -> set:
        return {(n, p) for n in NAMES
                for p in mix.datasets[n].__getitems__(range(len(mix.datasets[n]))).strings["pair_id"]}

    halves = [files(sq.shard(r, 2)) for r in range(2)]
    assert not halves[0] & halves[1] and halves[0] | halves[1] == files(sq)
    with pytest.raises(ValueError, match="rank"):
        m.shard(3, 3)


# ---- DataLoader ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["records", "sequences"])
def test_dataloader_workers_give_the_in_process_batches(records, sequences, mode):
    import torch  # pinned in the test extra: a missing torch is a broken environment
    m = drums.mix(records if mode == "records" else sequences, seed=8, length=150)
    m.set_epoch(2)  # the workers get the epoch with their copy of the mix
    loader = torch.utils.data.DataLoader(m, batch_size=32, num_workers=2, collate_fn=drums.collate)
    start = 0
    for b in loader:
        n = len(b["index"])
        ref = m.__getitems__(np.arange(start, start + n))
        assert set(ref.arrays) <= set(b)
        for key, value in ref.arrays.items():
            np.testing.assert_array_equal(b[key].numpy(), value, err_msg=key)
        for key, value in ref.strings.items():
            assert b[key] == value, key
        start += n
    assert start == len(m)


# ---- refusals ---------------------------------------------------------------------------------------

def test_datasets_that_cannot_share_a_batch_are_refused(prepared, records, sequences):
    enst = records["enst"]
    with pytest.raises(ValueError, match=r"'mdb' has mode sequences .*'enst' has records"):
        drums.mix({"enst": enst, "mdb": sequences["mdb"]})
    with pytest.raises(ValueError, match=r"'gmd9' has classes .*same --mapping"):
        drums.mix({"enst": enst, "mdb": records["mdb"], "gmd9": drums.open(prepared["mdb-gmd9"])})
    with pytest.raises(ValueError, match=r"'mdb' has sample rate 16000 Hz, 'enst' has 22050 Hz"):
        drums.mix({"enst": enst, "mdb": drums.open(prepared["mdb"], sample_rate_hz=16000)})
    with pytest.raises(ValueError, match=r"'mdb' has window 0.5 s"):
        drums.mix({"enst": enst, "mdb": drums.open(prepared["mdb"], clip_s=0.5)})
    with pytest.raises(ValueError, match=r"'mdb' has windows 44100 samples"):
        drums.mix({"enst": sequences["enst"], "mdb": drums.open(prepared["mdb"], mode="sequences", length_s=2.0)})
    with pytest.raises(ValueError, match=r"'clips' has layout clips, 'enst' has index.*same --layout"):
        drums.mix({"enst": enst, "clips": drums.open(prepared["mdb-clips"])})
    with pytest.raises(ValueError, match=r"'16k' has stored rate 16000 Hz, 'enst' has 22050 Hz.*--sample-rate"):
        drums.mix({"enst": enst, "16k": drums.open(prepared["mdb-16k"], sample_rate_hz=22050)})
    with pytest.raises(TypeError, match="'x' is a str"):
        drums.mix({"enst": enst, "x": "out/mdb"})
    with pytest.raises(ValueError, match="at least one"):
        drums.mix({})
    with pytest.raises(ValueError, match="no weight for 'slakh'"):
        drums.mix(records, weights={"enst": 1, "mdb": 1})
    with pytest.raises(ValueError, match="weights for 'egmd', not in the mix"):
        drums.mix(records, weights={"enst": 1, "mdb": 1, "slakh": 1, "egmd": 1})
    with pytest.raises(ValueError, match="2 weights for 3 datasets"):
        drums.mix(records, weights=[1, 2])
    with pytest.raises(ValueError, match="not all 0"):
        drums.mix(records, weights=[0, 0, 0])
    with pytest.raises(ValueError, match="not all 0"):
        drums.mix(records, weights=[1, -1, 1])
    empty = enst.shard(0, len(enst) + 1, drop_last=True)
    with pytest.raises(ValueError, match="'enst' has no items"):
        drums.mix({"enst": empty, "mdb": records["mdb"]}, weights=[1, 1])
    for weights in ([0, 1], None):  # weight 0, given or by default (no items): never drawn
        assert len(drums.mix({"enst": empty, "mdb": records["mdb"]}, weights=weights)) == len(records["mdb"])
    with pytest.raises(IndexError, match="out of range"):
        drums.mix(records, length=10).read_batch([10])


def test_clips_layout(prepared):
    """Stored clips (a source per record) joined across directories read as each directory's."""
    clips = {name: drums.open(prepared[f"{name}-clips"], jobs=1) for name in ("enst", "mdb")}
    m = drums.mix(clips, seed=1, length=120)
    batch = m.__getitems__(range(len(m)))
    which, position = m.draws()
    assert set(which.tolist()) == {0, 1}
    for j in range(len(m)):
        own = clips[m.names[which[j]]].__getitems__([position[j]])
        assert batch.strings["record_id"][j] == own.strings["record_id"][0]
        np.testing.assert_array_equal(batch.arrays["audio"][j], own.arrays["audio"][0])


def test_two_views_of_one_directory(records):
    """The same directory twice (two shards): read once, each view's records its own."""
    mdb = records["mdb"]
    halves = {"first": mdb.shard(0, 2, drop_last=True), "second": mdb.shard(1, 2, drop_last=True)}
    m = drums.mix(halves, seed=9, length=200)
    batch = m.__getitems__(range(len(m)))
    which, position = m.draws()
    for j in range(0, 200, 9):
        own = halves[m.names[which[j]]].__getitems__([position[j]])
        assert batch.strings["record_id"][j] == own.strings["record_id"][0]
        np.testing.assert_array_equal(batch.arrays["audio"][j], own.arrays["audio"][0])


def test_damaged_audio_names_its_own_directory(records, prepared, tmp_path):
    """A broken FLAC frame in the second dataset: the error names that directory, not the first."""
    damaged = tmp_path / "slakh-copy"
    shutil.copytree(prepared["slakh"], damaged)
    files = pq.read_table(damaged / "files-00000.parquet")
    with open(damaged / "audio-00000.bin", "r+b") as f:  # a byte flipped in the middle of every frame
        for offset, frames in zip(files.column("audio_offset").to_pylist(), files.column("frame_offsets").to_pylist()):
            for lo, hi in zip(frames, frames[1:]):
                f.seek(offset + (lo + hi) // 2)
                b = f.read(1)
                f.seek(-1, 1)
                f.write(bytes([b[0] ^ 0x5A]))
    m = drums.mix({"enst": records["enst"], "slakh": drums.open(damaged, jobs=1)}, weights=[1, 1], length=64)
    with pytest.raises(drums.StoredAudioError, match=f"cadence drums verify {damaged}$"):
        m.read_batch(range(64))
