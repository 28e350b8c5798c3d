"""examples/train_onsets.py, shortened: one epoch on a tiny sample corpus through DataLoader
workers. The loss must fall and the scoring must run (mir_eval on held-out kits and on seen
ones); what the full run reaches is in docs/drums.md."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "train_onsets.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("train_onsets", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_epoch_on_a_tiny_corpus_learns_and_scores(example, tmp_path):
    out = tmp_path / "run"
    results = example.main(["--out", str(out), "--performances", "6", "--kits", "4", "--min-duration", "3",
                            "--max-duration", "6", "--epochs", "1", "--length", "1", "--batch-size", "4",
                            "--workers", "2", "--device", "cpu"])
    losses = results["losses"]
    assert len(losses) >= 6
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:2]), losses  # it learns within the epoch
    names = ["bass_drum", "snare", "toms", "hihat", "cymbals_ride"]
    for part in ("held_out", "seen"):
        table = results[part]
        assert list(table) == [*names, "overall"]
        assert sum(table[c]["n_ref"] for c in names) == table["overall"]["n_ref"] > 0
        for row in table.values():
            assert 0.0 <= row["f"] <= 1.0 and 0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0
    assert results["held_out_kits"] == ["Room Kit", "Jazz Kit"]
    assert (out / "onsets.png").stat().st_size > 10_000
    saved = json.loads((out / "results.json").read_text())
    assert saved["held_out"]["overall"]["n_ref"] == results["held_out"]["overall"]["n_ref"]


def test_peaks_and_scores_on_known_activations(example):
    """Peak picking (threshold, local maximum, first of a plateau) and mir_eval's 50 ms window on
    activations made by hand."""
    prob = np.array([0.0, 0.2, 0.9, 0.9, 0.1, 0.0, 0.6, 0.4, 0.7, 0.0])
    assert example.pick_peaks(prob, 0.5, min_gap=1).tolist() == [2, 6, 8]
    assert example.pick_peaks(prob, 0.5, min_gap=2).tolist() == [2, 8]
    times = np.arange(10) * 0.1 + 0.05
    acts = {"a": {"prob": prob[:, None], "times": times}}
    refs = {"a": {"x": [0.27, 0.64, 1.5]}}
    table = example.score(acts, refs, ["x"], {"x": 0.5})
    # Peaks on frames 2 and 8 (0.25 s, 0.85 s): 0.27 is 20 ms from the first (found); 0.64 and 1.5
    # have no peak within 50 ms.
    assert table["x"]["n_est"] == 2 and table["x"]["n_ref"] == 3
    assert table["x"]["precision"] == pytest.approx(0.5) and table["x"]["recall"] == pytest.approx(1 / 3)
