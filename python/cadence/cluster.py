"""Running a cadence job on a Ray cluster (``--ray [ADDRESS]``, ``executor="ray"``).

Ray is optional (``pip install 'cadence[ray]'``); only this module and the two executors
(drums/ray_executor.py, gait/ray_executor.py) import it. What crosses the wire is plain data:
JSON text for the work units and their summaries, Arrow IPC bytes for gait features, shard files
on the shared output for drums; never a pickled object of ours.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

INSTALL_HINT = "pip install 'cadence[ray]'"
#: Retries of a unit whose worker died (killed, out of memory, node lost) before the run fails.
UNIT_RETRIES = 3


class RayMissing(ImportError):
    """``executor="ray"`` without Ray installed; the message says how to install it."""


def import_ray():
    """The ``ray`` module, or :class:`RayMissing` naming the install command."""
    try:
        import ray
    except ImportError as e:
        raise RayMissing(f"running on a Ray cluster needs Ray, which is not installed ({e}); install it "
                         f"with: {INSTALL_HINT}") from None
    return ray


def connect(address: str | None):
    """(ray, whether this call connected it): Ray, connected to ``address`` (``None``:
    $RAY_ADDRESS, else a one-machine cluster started for this run; ``"auto"``: the cluster started
    on this machine with ``ray start``). A connection that already exists (a notebook, a test) is
    used as it is. Call :func:`disconnect` with both when done."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    # Not Ray's own default for None, which follows a file left by the last cluster started
    # here and waits for it, dead or not.
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ConnectionError(f"cannot connect to the Ray cluster at {address} ({e}); start one with "
                              f"`ray start --head` or check the address") from None
    return ray, True


def disconnect(ray, owned: bool) -> None:
    if owned:
        ray.shutdown()


@contextmanager
def connected(address: str | None) -> Iterator[object]:
    """:func:`connect` for a ``with`` block."""
    ray, owned = connect(address)
    try:
        yield ray
    finally:
        disconnect(ray, owned)


def task_cpus(ray) -> tuple[int, int]:
    """(CPUs a whole-node task asks for, CPUs of the cluster): a task gets the CPUs of the smallest
    node, so that on a uniform cluster it has a whole node's cores (the engine's pool); bigger
    nodes run several tasks at once."""
    cpus = [int(n["Resources"].get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
    cpus = [c for c in cpus if c > 0]
    if not cpus:
        raise ConnectionError("the Ray cluster has no node with CPUs; add a worker node (ray start --address ...)")
    return min(cpus), sum(cpus)


def task_budget(ray, memory_limit: str | int | None) -> tuple[int, int, str]:
    """(threads, memory limit in bytes, node name) for the engine inside a task: the CPUs Ray
    assigned it, its share of the node's budget (``"auto"``: half of the node's RAM, split by
    CPUs), and the node's address and the start of its Ray id (for the report)."""
    from .runtime import default_memory_limit_bytes, parse_bytes

    ctx = ray.get_runtime_context()
    cpus = max(1, int(ctx.get_assigned_resources().get("CPU", 1)))
    node = next((n for n in ray.nodes() if n["NodeID"] == ctx.get_node_id()), None)  # one GCS call
    name = f"{node.get('NodeManagerAddress', '?') if node else '?'}/{ctx.get_node_id()[:8]}"
    if memory_limit != "auto":
        return cpus, parse_bytes(memory_limit), name
    node_cpus = int(node["Resources"].get("CPU", cpus)) if node else os.cpu_count() or cpus
    return cpus, default_memory_limit_bytes() * cpus // max(node_cpus, cpus), name
