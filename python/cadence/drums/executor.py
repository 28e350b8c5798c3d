"""Where the work of ``drums prepare`` runs, behind one signature: this machine's cores
(:class:`LocalExecutor`) or a Ray cluster (:class:`~cadence.drums.ray_executor.RayExecutor`).

``prepare()`` makes one with :func:`make` (options checked before anything is created on disk),
enters :meth:`connected` before OUT is created (a cluster that cannot be reached leaves nothing
behind), opens the store through it, and hands it the inputs left to do with :meth:`run`. Both
commit shards in input order through the same consumer (consumer.py), so the records are equal.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .. import _core
from ..runtime import make_job, run_job
from .consumer import Totals, postfix, write_all
from .corpus import Corpus, PairInput
from .store import Store

NAMES = ("local", "ray")


class LocalExecutor:
    """The engine on this machine's cores: ``jobs`` workers (0 = all), ``memory_limit_bytes``."""

    name = "local"

    def __init__(self, *, jobs: int, memory_limit_bytes: int, **_) -> None:
        self.jobs, self.memory_limit_bytes = jobs, memory_limit_bytes
        #: The job of the run (threads, memory budget, stage timers), for the report.
        self.job = None
        #: What the report adds for this executor (Ray: units and nodes).
        self.report_extra: dict = {}

    @contextlib.contextmanager
    def connected(self):
        yield self

    def open_store(self, out: Path, config: dict, *, resume: bool) -> Store:
        return Store.open(out, config, resume=resume)

    def run(self, corpus: Corpus, todo: list[PairInput], rejects: list[dict], store: Store, engine: dict,
            totals: Totals, *, show_progress: bool | None) -> None:
        """Prepare ``todo`` into ``store``; ``rejects`` (found before any work) go with the first
        commit. Ctrl-C raises KeyboardInterrupt once the workers have stopped; the committed
        shards stay."""
        self.job = make_job(self.jobs, self.memory_limit_bytes)
        run = _core.PrepareRun([p.engine_input(corpus.engine_path) for p in todo], self.job, **engine)
        run_job(lambda: write_all(run, todo, store, rejects, totals, self.job), self.job, desc="prepare",
                show_progress=show_progress, postfix=postfix)


def make(executor: str, **options):
    """The executor named ``executor`` (``local`` or ``ray``) with prepare()'s options (``jobs``,
    ``memory_limit``, ``memory_limit_bytes``, ``ray_address``, ``unit_inputs``); a ValueError or
    ImportError (Ray missing) before anything is created."""
    if executor == "local":
        return LocalExecutor(**options)
    if executor == "ray":
        from .ray_executor import RayExecutor  # Ray is an optional extra

        return RayExecutor(**options)
    raise ValueError(f"executor={executor!r}: use {' or '.join(map(repr, NAMES))}")
