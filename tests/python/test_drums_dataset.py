"""Reading prepared records back (python/cadence/drums/dataset.py, sampling.py): windows equal to
an independent decode of the source audio, batches equal to items, views, samplers, PyTorch's
DataLoader, and damaged stores that fail loudly instead of returning wrong audio."""

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import soxr

from cadence import _core, drums
from cadence.drums import BlockShuffleSampler, StoredAudioError
from cadence.drums.store import FORMAT_VERSION


@pytest.fixture(scope="module")
def stores(drum_corpus, tmp_path_factory):
    """The corpus at its own rate (so stored PCM16 equals the WAVs), in every store kind."""
    out = {}
    for name, kw in (("flac", {"layout": "index", "sample_rate_hz": 0}),
                     ("pcm16", {"layout": "index", "sample_rate_hz": 0, "index_codec": "pcm16"}),
                     ("clips", {"layout": "clips", "sample_rate_hz": 0, "codec": "flac", "clip_s": 0.3333,
                                "pad_before_s": 0.01251}),
                     ("clips16", {"layout": "clips", "sample_rate_hz": 0, "codec": "float16"}),
                     ("resampled", {"layout": "index"})):
        path = tmp_path_factory.mktemp(name) / "out"
        drums.prepare(drum_corpus, path, show_progress=False, **kw)
        out[name] = path
    return out


def source_windows(ds, corpus, rows):
    """The windows of `rows` cut with numpy from soundfile's decode of the original WAVs."""
    csv = {r["midi_filename"].rsplit(".", 1)[0]: r["audio_filename"] for r in _csv(corpus)}
    out = np.zeros((len(rows), ds.n_samples), np.float32)
    cache = {}
    for j, i in enumerate(rows):
        rec = ds.record(int(i))
        wav = cache.setdefault(rec["pair_id"], sf.read(corpus / csv[rec["pair_id"]], dtype="float32")[0])
        start, n = _core.drums_onset_window(rec["onset_sample"], ds.pad_before_s, ds.clip_s, rec["sample_rate_hz"])
        lo, hi = max(start, 0), min(start + n, len(wav))
        out[j, lo - start:hi - start] = wav[lo:hi]
    return out


def _csv(corpus):
    import csv as csv_mod

    with open(corpus / "e-gmd-v1.0.0.csv", newline="") as f:
        return list(csv_mod.DictReader(f))


@pytest.mark.parametrize("kind", ["flac", "pcm16", "clips"])
def test_windows_equal_the_source_audio(stores, drum_corpus, kind):
    ds = drums.open(stores[kind])
    rng = np.random.default_rng(1)
    rows = rng.choice(len(ds), size=min(120, len(ds)), replace=False)
    # First and last records of the store too: windows that leave the file at either end.
    rows = np.concatenate([[0, len(ds) - 1], rows])
    got = ds.read_batch(rows)["audio"]
    np.testing.assert_array_equal(got, source_windows(ds, drum_corpus, rows))


def test_window_and_padding_chosen_at_open(stores, drum_corpus):
    ds = drums.open(stores["flac"], clip_s=1.5, pad_before_s=0.25)
    assert ds.n_samples == round(1.5 * 44100)
    rows = np.arange(0, len(ds), 7)
    np.testing.assert_array_equal(ds.read_batch(rows)["audio"], source_windows(ds, drum_corpus, rows))
    with pytest.raises(ValueError, match="index layout"):
        drums.open(stores["clips"], clip_s=1.0)


def test_clips_and_index_give_the_same_windows(stores):
    clips = drums.open(stores["clips"])
    index = drums.open(stores["flac"], clip_s=clips.clip_s, pad_before_s=clips.pad_before_s)
    assert len(clips) == len(index) and clips.n_samples == index.n_samples
    np.testing.assert_array_equal(clips.read_batch(np.arange(len(clips)))["audio"],
                                  index.read_batch(np.arange(len(index)))["audio"])
    f16 = drums.open(stores["clips16"])
    a = f16.read_batch(np.arange(len(f16)))["audio"]
    b = drums.open(stores["flac"]).read_batch(np.arange(len(f16)))["audio"]
    np.testing.assert_allclose(a, b, atol=2e-3)  # float16 keeps ~3 significant digits


def test_items_batches_and_labels_agree(stores):
    ds = drums.open(stores["resampled"])
    rows = np.array([5, 0, 17, 5, len(ds) - 1])
    batch = ds.read_batch(rows)
    labels = ds.labels
    for j, i in enumerate(rows):
        item = ds[int(i)]
        np.testing.assert_array_equal(item["audio"], batch["audio"][j])
        assert item["record_id"] == labels.column("record_id")[int(i)].as_py()
        assert item["classes"].tolist() == labels.column("classes")[int(i)].as_py()
        assert item["class_velocity"].tolist() == labels.column("class_velocity")[int(i)].as_py()
        hits = slice(batch["hit_offsets"][j], batch["hit_offsets"][j + 1])
        assert batch["pitches"][hits].tolist() == labels.column("pitches")[int(i)].as_py()
        assert batch["velocities"][hits].tolist() == labels.column("velocities")[int(i)].as_py()
        assert int(item["index"]) == i
    assert ds[-1]["record_id"] == ds[len(ds) - 1]["record_id"]
    with pytest.raises(IndexError):
        ds.read_batch([len(ds)])
    assert ds.read_batch([])["audio"].shape == (0, ds.n_samples)


def test_batches_are_the_same_on_one_and_two_threads(stores):
    one, two = drums.open(stores["flac"], jobs=1), drums.open(stores["flac"], jobs=2)
    rows = np.random.default_rng(5).permutation(len(one))
    np.testing.assert_array_equal(one.read_batch(rows)["audio"], two.read_batch(rows)["audio"])


def test_filter_and_shard_are_views(stores):
    ds = drums.open(stores["resampled"])
    train = ds.filter(split="train")
    splits = ds.labels.column("split").to_pylist()
    assert len(train) == splits.count("train") > 0
    assert set(train.labels.column("split").to_pylist()) == {"train"}
    kit = train.labels.column("kit")[0].as_py()
    both = train.filter(kits=[kit])
    assert set(both.labels.column("kit").to_pylist()) == {kit}
    assert both._s is ds._s  # the labels and the store are shared, not copied
    first = int(np.flatnonzero(np.array(splits) == "train")[0])
    np.testing.assert_array_equal(train[0]["audio"], ds[first]["audio"])
    with pytest.raises(ValueError, match="'No Such Kit' not in this dataset; present: "):
        ds.filter(kits=["No Such Kit"])
    parts = [ds.shard(r, 3) for r in range(3)]
    assert len({len(p) for p in parts}) == 1 and 3 * len(parts[0]) >= len(ds)
    ids = [i for p in parts for i in p.labels.column("record_id").to_pylist()]
    assert set(ids) == set(ds.labels.column("record_id").to_pylist())
    dropped = [ds.shard(r, 3, drop_last=True) for r in range(3)]
    got = [i for p in dropped for i in p.labels.column("record_id").to_pylist()]
    assert len(got) == len(set(got)) == 3 * (len(ds) // 3)
    with pytest.raises(ValueError):
        ds.shard(3, 3)


def test_block_shuffle_sampler():
    s = BlockShuffleSampler(1000, block_records=50, window_blocks=4, seed=3)
    a = s.order()
    assert sorted(a.tolist()) == list(range(1000))
    assert a.tolist() == BlockShuffleSampler(1000, block_records=50, window_blocks=4, seed=3).order().tolist()
    s.set_epoch(1)
    b = s.order()
    assert sorted(b.tolist()) == list(range(1000)) and b.tolist() != a.tolist()
    # Local: each run of 200 consecutive indices of the order comes from at most 4 blocks.
    for w in range(0, 1000, 200):
        assert len(set((a[w:w + 200] // 50).tolist())) <= 4
    assert a[:200].tolist() != sorted(a[:200].tolist())  # shuffled within the window


def test_iter_batches_in_storage_order(stores):
    ds = drums.open(stores["resampled"])
    seen = np.concatenate([b["index"] for b in ds.iter_batches(100)])
    assert seen.tolist() == list(range(len(ds)))
    full = ds.read_batch(np.arange(len(ds)))["audio"]
    np.testing.assert_array_equal(np.concatenate([b["audio"] for b in ds.iter_batches(64)]), full)


def test_dataloader_default_collate_and_drums_collate(stores):
    import torch  # pinned in the test extra: a missing torch is a broken environment
    ds = drums.open(stores["resampled"])
    n = 3 * 32
    plain = next(iter(torch.utils.data.DataLoader(ds, batch_size=n)))
    assert plain["audio"].shape == (n, ds.n_samples) and plain["classes"].shape == (n, len(ds.class_names))
    assert plain["record_id"] == ds.labels.column("record_id").to_pylist()[:n]
    fast = next(iter(torch.utils.data.DataLoader(ds, batch_size=n, collate_fn=drums.collate)))
    for k in ("audio", "classes", "class_velocity", "index", "onset_s", "onset_sample", "sample_rate_hz"):
        assert torch.equal(plain[k], fast[k]), k
    assert fast["hit_offsets"].shape == (n + 1,)


def test_a_worker_batch_is_written_once_into_shared_memory(stores):
    """What a DataLoader worker's collate returns: every array over one storage that is already
    in shared memory, so sending it passes a handle, not a copy of the audio."""
    import torch  # pinned in the test extra: a missing torch is a broken environment
    from cadence.drums import sampling

    batch = drums.open(stores["resampled"]).read_batch(np.arange(40))
    out = sampling._one_storage(torch, batch)
    assert out["audio"].is_shared() and len({t.untyped_storage().data_ptr() for t in out.values()}) == 1
    for k, a in batch.items():
        np.testing.assert_array_equal(out[k].numpy(), a)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_read_every_record_once(stores, context):
    import torch  # pinned in the test extra: a missing torch is a broken environment
    ds = drums.open(stores["resampled"])
    ds[0]  # the parent has used its engine threads before the workers fork
    sampler = BlockShuffleSampler(len(ds), block_records=16, seed=2)
    loader = torch.utils.data.DataLoader(ds, batch_size=32, sampler=sampler, collate_fn=drums.collate,
                                         num_workers=2, multiprocessing_context=context)
    seen, audio = [], {}
    for b in loader:
        seen += b["index"].tolist()
        audio.update(zip(b["index"].tolist(), b["audio"].numpy()))
        assert len({b[k].untyped_storage().data_ptr() for k in ("audio", "classes", "index")}) == 1
    assert seen == sampler.order().tolist()
    direct = ds.read_batch(np.arange(len(ds)))["audio"]
    for i in (0, len(ds) // 2, len(ds) - 1):
        np.testing.assert_array_equal(audio[i], direct[i])


# ---- damaged stores -------------------------------------------------------------------------

def _copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_damaged_frame_raises_naming_file_and_verify(stores, tmp_path):
    path = _copy(stores["flac"], tmp_path)
    files = pq.read_table(path / "files-00000.parquet")
    frames = files.column("frame_offsets")[0].as_py()
    offset = files.column("audio_offset")[0].as_py()
    block = files.column("block_size")[0].as_py()
    ds = drums.open(path, clip_s=0.2, pad_before_s=0.0)
    pair = files.column("pair_id")[0].as_py()
    rows = [i for i, p in enumerate(ds.labels.column("pair_id").to_pylist()) if p == pair]
    k = ds.record(rows[0])["onset_sample"] // block  # the frame the first window starts in
    with open(path / "audio-00000.bin", "r+b") as f:  # flip a byte in the middle of frame k
        f.seek(offset + (frames[k] + frames[k + 1]) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0x5A]))
    with pytest.raises(StoredAudioError, match=r"audio-00000\.bin.*" + pair.split("/")[-1] + r".*cadence drums verify"):
        ds.read_batch(rows)
    problems = drums.verify(path)
    assert any("checksum" in p for p in problems) and any(pair in p and "FLAC" in p for p in problems)


def test_frame_table_that_does_not_match_is_an_error(stores, tmp_path):
    path = _copy(stores["flac"], tmp_path)
    t = pq.read_table(path / "files-00000.parquet")
    tables = t.column("frame_offsets").to_pylist()
    tables[0] = [tables[0][0]] + [x + 1 for x in tables[0][1:]]  # every frame but the first one byte off
    t = t.set_column(t.schema.get_field_index("frame_offsets"), "frame_offsets",
                     pa.array(tables, pa.list_(pa.uint32())))
    pq.write_table(t, path / "files-00000.parquet")
    ds = drums.open(path, clip_s=3.0, pad_before_s=0.0)
    with pytest.raises(StoredAudioError, match="cadence drums verify"):
        ds.read_batch(np.arange(len(ds)))
    assert any("frame" in p or "checksum" in p for p in drums.verify(path))


def test_truncated_or_missing_audio_is_an_error_on_open(stores, tmp_path):
    path = _copy(stores["flac"], tmp_path)
    blob = path / "audio-00000.bin"
    with open(blob, "r+b") as f:
        f.truncate(blob.stat().st_size // 2)
    with pytest.raises(StoredAudioError, match=r"audio-00000\.bin.*past the end.*cadence drums verify"):
        drums.open(path)[0]
    assert any("truncated" in p for p in drums.verify(path))
    blob.unlink()
    with pytest.raises(StoredAudioError, match=r"audio-00000\.bin.*cannot open"):
        drums.open(path)[0]


def test_old_format_gives_a_clear_message(stores, drum_corpus, tmp_path):
    path = _copy(stores["flac"], tmp_path)
    lines = (path / "journal.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    assert header["version"] == FORMAT_VERSION
    header["version"] = 1
    (path / "journal.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(ValueError, match="format 1.*cadence drums prepare ROOT NEW_OUT"):
        drums.open(path)
    with pytest.raises(ValueError, match="older cadence"):
        drums.prepare(drum_corpus, path, resume=True, show_progress=False)


def test_output_rate_chosen_at_open(stores):
    stored = drums.open(stores["resampled"])
    ds = drums.open(stores["resampled"], sample_rate_hz=16000, clip_s=0.5, pad_before_s=0.1)
    assert ds.sample_rate_hz == 16000 and ds.stored_rate_hz == 22050 and ds.n_samples == 8000
    s = ds._s
    pair = int(s.pair_of[len(ds) // 2])
    rows = np.flatnonzero(s.pair_of == pair)
    batch = ds.read_batch(rows)
    assert (batch["sample_rate_hz"] == 16000).all()
    np.testing.assert_array_equal(batch["onset_sample"], np.floor(s.onset_s[rows] * 16000 + 0.5).astype(np.int64))
    # Reference: the whole stored file resampled at once by libsoxr (HQ), windows cut in numpy.
    src = int(s.source_of[rows[0]])
    x = stored._s.store().read(src, 0, int(s.src["n_samples"][src]))
    y = soxr.resample(x, 22050, 16000, quality="HQ").astype(np.float32)
    for j, onset in enumerate(batch["onset_sample"]):
        start, n = _core.drums_onset_window(int(onset), 0.1, 0.5, 16000)
        want = np.zeros(n, np.float32)
        lo, hi = max(start, 0), min(start + n, len(y))
        want[lo - start:hi - start] = y[lo:hi]
        np.testing.assert_allclose(batch["audio"][j], want, atol=1e-5)
    with pytest.raises(ValueError, match="index layout"):
        drums.open(stores["clips"], sample_rate_hz=16000)


def test_stream_splits_records_across_dataloader_workers(stores):
    import torch  # pinned in the test extra: a missing torch is a broken environment
    ds = drums.open(stores["resampled"])
    loader = torch.utils.data.DataLoader(drums.stream(ds, 50), batch_size=None, num_workers=2,
                                         collate_fn=drums.collate)
    seen = sorted(i for b in loader for i in b["index"].tolist())
    assert seen == list(range(len(ds)))  # every record once, across both workers
    plain = [b["index"].tolist() for b in drums.stream(ds, 50)]
    assert [i for b in plain for i in b] == list(range(len(ds)))
