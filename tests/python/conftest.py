"""Shared fixtures: sample corpora generated once per test session."""

import pytest

from cadence.sample import drums


def pytest_report_header(config):
    """The SIMD paths this run takes, at the top of every run's output: the engine's gait kernels
    run 8 lanes (AVX-512) or 4 (SSE2/AVX2) by the CPU, so a green run says which it checked (the
    C++ suite's 8-lane tests report themselves skipped on a CPU without AVX-512)."""
    from cadence import build_info

    info = build_info()
    return f"cadence SIMD paths: gait lanes {info['gait_lanes']}; CPU features {info['cpu_features']}"


@pytest.fixture(scope="session")
def drum_corpus(tmp_path_factory):
    """A small E-GMD-shaped corpus: 4 performances x 2 kits, 3-6 s each (with tempo changes)."""
    root = tmp_path_factory.mktemp("corpus") / "egmd"
    drums.generate(root, performances=4, kits=2, seed=7, min_duration_s=3, max_duration_s=6)
    return root


from cluster_support import ray_cluster  # noqa: E402,F401 - the Ray tests' cluster, one per session
