"""Batches from DataLoader workers through reused shared memory (python/cadence/drums/batch_pool.py):
the same batches as read_batch, buffers reused rather than made per batch, and nothing left in
/dev/shm or mapped in the training process after persistent workers, pin_memory, restarted or
killed workers, kept batches or Ctrl-C. Also a dataset whose directory went away under its
workers: an error naming it, not a hang."""

import contextlib
import gc
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch  # pinned in the test extra: a missing torch is a broken environment

from cadence import drums
from cadence.drums import StoredAudioError, batch_pool

TIMEOUT_S = 60  # DataLoader(timeout=...): a hang becomes an error, not a stuck test


@pytest.fixture(scope="module")
def store(drum_corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "out"
    drums.prepare(drum_corpus, path, show_progress=False)
    return path


def shm_names(pids) -> set:
    """/dev/shm entries PyTorch names after these processes (torch_<pid>_...), and any of ours."""
    names = set(os.listdir("/dev/shm"))
    return {n for n in names if n.startswith("cadence-batch") or any(n.startswith(f"torch_{p}_") for p in pids)}


def mapped_here() -> int:
    """Arena mappings of this process (/proc/self/maps lines of the pool's memfds)."""
    with open("/proc/self/maps") as f:
        return sum("cadence-batch" in line for line in f)


def loader(ds, **kw):
    kw.setdefault("batch_size", 16)
    return torch.utils.data.DataLoader(ds, collate_fn=drums.collate, num_workers=2, timeout=TIMEOUT_S, **kw)


def worker_pids(it) -> list:
    return [w.pid for w in it._workers]  # the iterator's worker processes (torch keeps them there)


def check_batches(ds, batches, keys):
    for b in batches:
        direct = ds.read_batch(b["index"].numpy())
        for k in keys:
            np.testing.assert_array_equal(b[k].numpy(), direct[k], err_msg=k)


def drop_all():
    gc.collect()
    assert batch_pool.mapped_arenas() == 0 and mapped_here() == 0, "arena mappings outlived their workers"


@pytest.mark.parametrize("mode", ["records", "sequences"])
@pytest.mark.parametrize("persistent", [False, True])
def test_batches_equal_read_batch_and_buffers_are_reused(store, mode, persistent):
    kw = {"mode": "sequences", "length_s": 1.0, "features": "mel"} if mode == "sequences" else {}
    ds = drums.open(store, **kw)
    keys = ("audio", "onset_roll", "features", "start_sample") if mode == "sequences" else (
        "audio", "classes", "onset_sample", "hit_offsets")
    dl = loader(ds, batch_size=4 if mode == "sequences" else 16, persistent_workers=persistent,
                sampler=np.random.default_rng(0).permutation(len(ds)).tolist())
    pids, most = set(), 0
    before = shm_names([os.getpid()])
    for _ in range(2):  # two epochs: the same workers (persistent) or new ones
        it = iter(dl)
        pids |= set(worker_pids(it))
        n = 0
        for b in it:
            check_batches(ds, [b], keys)
            assert b["audio"].untyped_storage().data_ptr() == b[keys[1]].untyped_storage().data_ptr()
            n += len(b["index"])
            # Each worker has at most prefetch_factor (2) batches in flight and one being used here.
            most = max(most, batch_pool.mapped_arenas())
            assert most <= 2 * 3
        assert n == len(ds)
        del b, it
    assert most >= 2  # the batches did come through the pool
    assert shm_names(pids | {os.getpid()}) == before
    del dl
    gc.collect()
    if not persistent:
        drop_all()  # the workers of the last epoch have exited: their arenas are unmapped


def test_kept_batches_stay_correct_when_the_pool_is_full(store):
    ds = drums.open(store)
    dl = loader(ds, batch_size=2)
    it = iter(dl)
    pids = worker_pids(it) + [os.getpid()]
    before = shm_names(pids)
    kept = list(it)  # more batches than MAX_ARENAS per worker: the rest go PyTorch's way
    assert len(kept) > 2 * batch_pool.MAX_ARENAS
    pooled = [not b["audio"].is_shared() for b in kept]  # an arena's tensors are not torch's segments
    assert sum(pooled) == 2 * batch_pool.MAX_ARENAS
    check_batches(ds, kept, ("audio", "classes"))
    assert sorted(np.concatenate([b["index"].numpy() for b in kept]).tolist()) == list(range(len(ds)))
    del kept, dl, it
    drop_all()
    assert shm_names(pids) == before


def test_pin_memory_and_the_switch_off(store, monkeypatch):
    ds = drums.open(store)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")  # no accelerator on CI
        it = iter(loader(ds, pin_memory=True, batch_size=32))
        pids = worker_pids(it) + [os.getpid()]
        before = shm_names(pids)
        batches = list(it)
    check_batches(ds, batches, ("audio", "class_velocity"))
    del batches, it
    drop_all()
    assert shm_names(pids) == before
    monkeypatch.setenv("CADENCE_SHARED_BATCHES", "0")  # PyTorch's own shared memory, per batch
    it = iter(loader(ds, batch_size=32))
    pids = worker_pids(it) + [os.getpid()]
    batches = list(it)
    check_batches(ds, batches, ("audio", "class_velocity"))
    assert batch_pool.mapped_arenas() == 0 and all(b["audio"].is_shared() for b in batches)
    del batches, it
    assert shm_names(pids) == before


def test_a_killed_worker_is_an_error_and_leaves_nothing(store):
    ds = drums.open(store)
    it = iter(loader(ds, batch_size=4))
    pids = worker_pids(it)
    before = shm_names(pids + [os.getpid()])
    first = next(it)
    os.kill(pids[0], signal.SIGKILL)
    with pytest.raises(RuntimeError, match="DataLoader worker"):
        while True:
            next(it)  # batches already sent arrive, then the error
    check_batches(ds, [first], ("audio",))
    # Shut the iterator down here: left to its __del__, torch's SIGCHLD check may raise the same
    # "worker killed" there again, as an unraisable exception (seen once in a full run).
    with contextlib.suppress(RuntimeError):
        it._shutdown_workers()
    del first, it
    assert shm_names(pids + [os.getpid()]) == before
    drop_all()


def test_ctrl_c_leaves_nothing_in_dev_shm(store, tmp_path):
    script = tmp_path / "loop.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, torch
        from cadence import drums
        ds = drums.open({str(store)!r})
        dl = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=drums.collate,
                                         persistent_workers=True, timeout=60)
        it = iter(dl)
        next(it)
        print(os.getpid(), *[w.pid for w in it._workers], flush=True)  # batches are flowing
        while True:
            for b in it:
                pass
            it = iter(dl)
    """))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:  # its own process group, as in a terminal
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 3
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        assert proc.wait(timeout=TIMEOUT_S) != 0
    deadline = time.monotonic() + TIMEOUT_S
    while any(_running(p) for p in pids[1:]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in pids[1:]), "a worker outlived Ctrl-C"
    assert not shm_names(pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("change", ["deleted", "prepared again"])
@pytest.mark.parametrize("mode", ["records", "sequences"])
def test_a_directory_gone_under_the_workers_is_an_error_naming_it(store, drum_corpus, tmp_path, change, mode):
    path = tmp_path / "out"
    shutil.copytree(store, path)
    ds = drums.open(path, mode=mode, **({"length_s": 1.0} if mode == "sequences" else {}))
    shutil.rmtree(path)
    if change == "prepared again":
        drums.prepare(drum_corpus, path, show_progress=False, clip_s=0.3)
    with pytest.raises(StoredAudioError, match=rf"(?s)DataLoader worker.*{path}.*was {change}.*drums.open"):
        next(iter(loader(ds, batch_size=4)))
    with pytest.raises(StoredAudioError, match=f"was {change}"):  # the training process too
        ds.read_batch([0])
