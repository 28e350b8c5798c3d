"""Running a cadence job on a Ray cluster (``--ray [ADDRESS]``, ``executor="ray"``).

Ray is optional (``pip install 'cadence[ray]'``); only this module and the two executors
(drums/ray_executor.py, gait/ray_executor.py) import it. What crosses the wire is plain data:
JSON text for the work units and their summaries, Arrow IPC bytes for gait features, shard files
on the shared output for drums; never a pickled object of ours. ROOT, FILE and OUT may also be
URIs of a file system pyarrow knows (the helpers at the end of this module).
"""

from __future__ import annotations

import logging
import os
import re
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .atomic import replace_on

INSTALL_HINT = "pip install 'cadence[ray]'"
#: Retries of a unit whose worker died (killed, out of memory, node lost) before the run fails.
UNIT_RETRIES = 3
#: How long the check that something listens at a cluster's address waits (probe_address).
PROBE_TIMEOUT_S = 5.0


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
    if address == "local":  # a private cluster for this run: Ray's notice on its token is noise here
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    probe_address(address)
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ConnectionError(f"cannot connect to the Ray cluster at {address} ({e}); start one with "
                              f"`ray start --head` or check the address") from None
    return ray, True


_HOST_PORT = re.compile(r"^(?:ray://)?(?P<host>\[[^\]]+\]|[^:/\[\]]+):(?P<port>\d+)$")


def probe_address(address: str) -> None:
    """ConnectionError, naming the address and how to start a cluster there, when nothing
    accepts a TCP connection at ``address`` (``host:port`` or ``ray://host:port``). ``ray.init``
    itself would retry for minutes, printing its C++ log lines, before giving up. ``local``,
    ``auto`` and other forms are left to Ray."""
    m = _HOST_PORT.match(address.strip())
    if not m:
        return
    host, port = m["host"].strip("[]"), int(m["port"])
    try:
        socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else e.strerror or str(e)
        start = "ray start --head" + ("" if address.startswith("ray://") else f" --port={port}")
        raise ConnectionError(f"no Ray cluster at {address} ({why}); start one on that machine with `{start}`, "
                              f"or check the address (docs/scale-out.md)") from None


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


def stop_units(ray, tasks: list[list], grace_s: float) -> None:
    """Stop the rest of a run (a unit failed, or Ctrl-C). ``tasks``: each unread task's object
    refs, the small one first (a summary). A task done within ``grace_s`` is dropped; its
    summary is read to see whether it failed, and then its other refs too (Ray prints every
    error nobody read; a result that did not fail is never fetched). The others are killed. The
    wait is there because Ray's driver can abort (a failed internal check, exit code 1, nothing
    printed) when a cancel races with the reply of a task that is just finishing, which is what
    happens when every unit fails at once on a bad input (seen in CI with Ray 2.60;
    tests/python/test_gait_ray.py repeats it). A second Ctrl-C during the wait kills them all."""
    if not tasks:
        return
    firsts = [refs[0] for refs in tasks]
    unfinished = set(firsts)
    try:
        _, left = ray.wait(firsts, num_returns=len(firsts), timeout=grace_s, fetch_local=False)
        unfinished = set(left)
        for refs in tasks:
            if refs[0] not in unfinished:
                _read_if_failed(ray, refs)
    except Exception:  # noqa: BLE001 - a cluster already gone (Ctrl-C reaches a local one too)
        pass
    finally:
        for ref in firsts:
            if ref in unfinished:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - as above
                    break


def _read_if_failed(ray, refs: list) -> None:
    try:
        ray.get(refs[0])
    except Exception:  # noqa: BLE001 - it failed: read its other returns' errors too, and drop them
        for ref in refs[1:]:
            try:
                ray.get(ref)
            except Exception:  # noqa: BLE001
                pass


#: How long a failed run waits for its other units before killing them (stop_units).
STOP_GRACE_S = 2.0


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


# ---- ROOT, FILE and OUT on a filesystem pyarrow knows (s3://, gs://, hdfs://, file://...) ----
# Only a --ray run takes them (docs/scale-out.md): its tasks
# fetch their own inputs to a node-local temporary directory and put their outputs under
# temporary names; the driver alone commits. Credentials come from pyarrow's own sources (for S3:
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION or ~/.aws; for GCS:
# GOOGLE_APPLICATION_CREDENTIALS), on the driver and on every node alike.

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
#: Where a whole-object PUT is atomic (an object appears whole or not at all, no rename needed).
OBJECT_STORES = ("s3", "gcs")
COPY_BYTES = 8 << 20


def is_uri(x) -> bool:
    """A string naming a filesystem by its scheme (``s3://bucket/x``, ``file:///data/x``); a
    plain path (str or Path) is not one, and keeps every behaviour of a local run."""
    return isinstance(x, str) and bool(_URI.match(x))


def filesystem(uri: str):
    """(pyarrow filesystem, path on it) for ``uri``; a clear error for a scheme pyarrow lacks."""
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except (ValueError, NotImplementedError) as e:  # pyarrow's ArrowInvalid, ArrowNotImplementedError
        raise ValueError(f"{uri}: not a filesystem pyarrow can open ({e}); use s3://, gs://, hdfs:// or "
                         f"file:// (and pyarrow's credentials, see docs/scale-out.md)") from None


def download(fs, src: str, dst: Path) -> None:
    """Copy ``src`` on ``fs`` to the local file ``dst`` (its directories created)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with fs.open_input_stream(src) as f, open(dst, "wb") as g:
        while chunk := f.read(COPY_BYTES):
            g.write(chunk)


def upload(fs, src: Path, dst: str) -> None:
    """Copy the local file ``src`` to ``dst`` on ``fs`` (one object; parents made where needed)."""
    if fs.type_name not in OBJECT_STORES:  # an object store has no directories to make
        fs.create_dir(dst.rpartition("/")[0], recursive=True)
    with open(src, "rb") as f, fs.open_output_stream(dst) as g:
        while chunk := f.read(COPY_BYTES):
            g.write(chunk)


def put_whole(fs, path: str, data: bytes) -> None:
    """Replace ``path`` on ``fs`` by ``data`` so that a reader sees the old or the new content,
    never a part: on an object store one PUT (atomic there), elsewhere a temporary name then a
    rename."""
    if fs.type_name in OBJECT_STORES:
        with fs.open_output_stream(path) as g:
            g.write(data)
        return
    fs.create_dir(path.rpartition("/")[0], recursive=True)

    def write(tmp: str) -> None:
        with fs.open_output_stream(tmp) as g:
            g.write(data)
    replace_on(fs, path, write)


def join_uri(uri: str, *names: str) -> str:
    """``uri`` with path components added (before a ``?query``, which stays at the end)."""
    head, sep, query = uri.partition("?")
    return "/".join([head.rstrip("/"), *names]) + sep + query


#: Node-local directory of the tasks' temporary files (inputs fetched, shards before upload).
NODE_TMP = "cadence-ray"


def node_tmp(kind: str) -> Path:
    """A fresh node-local directory for one task attempt, named ``<kind>-<pid>-<random>``; first
    the directories of attempts whose process is gone (a worker killed mid-unit, or while it
    removed its directory) are removed. The pid is in the name, so that a directory half removed
    is still recognised."""
    import shutil
    import tempfile

    top = Path(tempfile.gettempdir()) / NODE_TMP
    top.mkdir(exist_ok=True)
    for old in top.iterdir():
        pid = old.name.split("-")[1] if old.name.count("-") >= 2 else ""
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)
        except OSError:  # another user's process: alive
            continue
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=top))


def renamed(e: BaseException, names: dict) -> BaseException:
    """``e`` with its message's local stand-ins (keys: Path or str) named by their URIs (values);
    ``e`` itself when its type takes other arguments."""
    def fix(text):
        if not isinstance(text, str):
            return text
        for local, uri in names.items():
            if local is not None and uri is not None:
                text = text.replace(str(local), uri.rstrip("/"))
        return text

    try:
        if isinstance(e, OSError) and e.errno is not None:
            return type(e)(e.errno, fix(e.strerror), fix(e.filename))
        return type(e)(*(fix(a) for a in e.args))
    except Exception:  # noqa: BLE001 - an exception type with its own constructor: as it was
        return e


def put_file(fs, src: Path, dst: str) -> None:
    """:func:`put_whole` for a local file of any size: on an object store one upload (the object
    appears when complete), elsewhere a temporary name then a rename."""
    if fs.type_name in OBJECT_STORES:
        upload(fs, src, dst)
        return
    replace_on(fs, dst, lambda tmp: upload(fs, src, tmp))
