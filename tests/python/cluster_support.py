"""Test support for the Ray executors: a small local cluster, and a way to catch a task at a
known point (blocked opening a FIFO that stands in for one of its input files) and SIGKILL it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """A Ray cluster on this machine: a head without CPUs and 2 worker nodes of 1 CPU each, so
    that every task runs on a worker node; this process is connected to it, with
    :func:`install_fault_hook` run in each of its workers (see :func:`kill_next_writer`)."""
    import ray
    import ray.cloudpickle
    from ray.cluster_utils import Cluster

    os.environ[CONTROL] = str(tmp_path_factory.mktemp("ray-control"))  # inherited by the nodes' workers
    store = 80 << 20  # Ray's minimum object store is 75 MiB
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": store,
                                                      "include_dashboard": False})
    for _ in range(2):
        c.add_node(num_cpus=1, object_store_memory=store)
    c.wait_for_nodes()
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    ray.init(address=c.address, log_to_driver=False,
             runtime_env={"worker_process_setup_hook": install_fault_hook})
    yield c
    ray.shutdown()
    c.shutdown()


CONTROL = "CADENCE_TEST_RAY_CONTROL"


def install_fault_hook() -> None:
    """Run in each worker: the shard writers call :func:`_worker_fault` (cadence.drums.store's
    test seam, which production code never sets)."""
    from cadence.drums import store
    from cadence.gait import ray_executor

    store.fault_hook = _worker_fault
    recode = ray_executor._recode

    def recode_or_die(*args):  # a gait unit after its engine pass, before it returns
        _worker_fault("before_rename")
        return recode(*args)

    ray_executor._recode = recode_or_die


def _worker_fault(point: str, journal=None, line=None) -> None:
    if point != "before_rename":
        return
    trigger = Path(os.environ[CONTROL]) / "kill-next"
    try:
        os.rename(trigger, trigger.with_name(f"killed-{os.getpid()}"))  # one writer wins
    except FileNotFoundError:
        return
    os.kill(os.getpid(), signal.SIGKILL)  # mid-write: the shard is whole under its temporary name


def kill_next_writer() -> Path:
    """Arm the trigger: the next worker about to rename a finished shard file SIGKILLs itself.
    Returns the control directory, where ``killed-<pid>`` then says who died."""
    control = Path(os.environ[CONTROL])
    for old in control.glob("killed-*"):
        old.unlink()
    (control / "kill-next").touch()
    return control


def fifo_in_place_of(path: Path) -> Path:
    """Move ``path`` aside and put a FIFO under its name: whoever opens it blocks until
    :func:`kill_readers` puts the file back. Returns where the file is."""
    aside = path.with_name(f".{path.name}.aside")
    os.replace(path, aside)
    os.mkfifo(path)
    return aside


def _blocked_tasks(task: str) -> list[int]:
    """Pids of Ray workers running ``task`` with a thread blocked opening a FIFO."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if not (d / "cmdline").read_bytes().startswith(f"ray::{task}".encode()):
                continue
            if any((t / "wchan").read_text() == "wait_for_partner" for t in (d / "task").iterdir()):
                pids.append(int(d.name))
        except OSError:
            continue
    return pids


def kill_readers(fifo: Path, aside: Path, task: str, timeout_s: float = 120.0) -> list[int]:
    """Wait for a ``task`` blocked on ``fifo``, put the real file back in its place (so that a
    retry reads it), then SIGKILL every worker still blocked on the FIFO. Returns their pids."""
    deadline = time.monotonic() + timeout_s
    while not _blocked_tasks(task):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {task} task opened {fifo} within {timeout_s} s")
        time.sleep(0.05)
    os.replace(aside, fifo)  # from now on, an opening of the path gets the file
    killed: list[int] = []
    settle = time.monotonic() + 1.0
    while time.monotonic() < settle:  # another task may have been blocking on the FIFO too
        for pid in _blocked_tasks(task):
            if pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.05)
    return killed


def without_ray(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` (Python, with ``sys`` imported) in a fresh interpreter where ``import ray``
    fails, as it does for a user without Ray. Never done in the test process itself: there Ray is
    connected, with threads of its own that call back into Python, and a failed import in one of
    them ends the whole process with exit code 1 and nothing printed (seen in CI)."""
    blocked = "import sys\nsys.modules['ray'] = None  # import ray -> ImportError\n"
    return subprocess.run([sys.executable, "-c", blocked + script, *args], capture_output=True, text=True,
                          timeout=300)


#: ``without_ray`` scripts: the command line, and a call expected to raise ImportError (printed).
CLI = "from cadence.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def import_error_of(call: str) -> str:
    return f"try:\n    {call}\nexcept ImportError as e:\n    print(e)\nelse:\n    sys.exit('no ImportError')\n"
