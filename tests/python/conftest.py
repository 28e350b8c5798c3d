"""Shared fixtures: sample corpora generated once per test session."""

import pytest

from cadence.sample import drums


@pytest.fixture(scope="session")
def drum_corpus(tmp_path_factory):
    """A small E-GMD-shaped corpus: 4 performances x 2 kits, 3-6 s each (with tempo changes)."""
    root = tmp_path_factory.mktemp("corpus") / "egmd"
    drums.generate(root, performances=4, kits=2, seed=7, min_duration_s=3, max_duration_s=6)
    return root


from cluster_support import ray_cluster  # noqa: E402,F401 - the Ray tests' cluster, one per session
