"""The seed pipeline's baseline (bench/drums_seed_baseline.py) does what the seed does, defects too.

The benchmark is only fair if the baseline is the seed's method: these check its records, clips,
codec bands and its known tempo defect against the sample corpus's ground truth (plan_corpus).
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import mido
import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from cadence.sample import drums


SEED, PERFORMANCES, MIN_S, MAX_S = 0, 2, 8.0, 10.0
RATE = 22050


def _load_baseline():
    path = Path(__file__).resolve().parents[2] / "bench" / "drums_seed_baseline.py"
    spec = importlib.util.spec_from_file_location("drums_seed_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


baseline = _load_baseline()


@pytest.fixture(scope="module")
def plan():
    return drums.plan_corpus(PERFORMANCES, seed=SEED, min_duration_s=MIN_S, max_duration_s=MAX_S)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, plan):
    root = tmp_path_factory.mktemp("egmd")
    drums.generate(root, performances=PERFORMANCES, kits=1, seed=SEED, min_duration_s=MIN_S,
                   max_duration_s=MAX_S, jobs=2)
    # the test relies on performance 0 having one tempo and performance 1 a tempo change
    assert len(plan[0].tempo_map) == 1 and len(plan[1].tempo_map) > 1
    return root / drums.CSV_NAME


def _read_batches(out_dir):
    tables = [pq.read_table(p) for p in sorted(Path(out_dir).glob("*.parquet"))]
    return [row for t in tables for row in t.to_pylist()]


def _decode(row):
    if row["codec"] == "flac":
        audio, rate = sf.read(io.BytesIO(row["audio_wav"]), dtype="float32")
        assert rate == RATE
        return audio
    return np.frombuffer(row["audio_wav"], dtype=row["codec"]).astype(np.float32)


def test_unsorted_group_by_merges_only_adjacent_equal_starts():
    notes = [[36, 1.0, 1.1], [49, 1.0, 1.3], [38, 1.5, 1.6], [42, 1.0, 1.05], [42, 2.0, 2.1]]
    assert baseline.merge_unsorted(notes) == [
        [[36, 49], 1.0, 1.3], [38, 1.5, 1.6], [42, 1.0, 1.05], [42, 2.0, 2.1]]


def test_one_record_per_merged_onset(corpus, plan, tmp_path):
    result = baseline.run_baseline(corpus, tmp_path, fix_length_s=0.2, batch_files=1)
    checks = baseline.baseline_records(corpus)
    rows = _read_batches(tmp_path)
    assert result["files"] == 2 and result["batches"] == 2 and not result["skipped"]
    assert result["records"] == len(rows) == sum(c["n_records"] for c in checks)
    for check, perf in zip(checks, plan):
        mine = [r for r in rows if r["track_id"] == check["track_id"]]
        assert [r["start"] for r in mine] == check["onsets_s"]
        # every note is in exactly one record's label
        pitches = sorted(p for r in mine for p in r["label"])
        assert pitches == sorted(h.pitch for h in perf.hits)
        assert all(r["sampling_rate"] == RATE for r in mine)
    # single tempo: the records' starts are the true onsets rounded to 10 ms, each distinct
    # start once per unbroken run (the unsorted group-by may split a run, never join two)
    constant = [r["start"] for r in rows if r["track_id"] == checks[0]["track_id"]]
    truth = {round(h.onset_s, 2) for h in plan[0].hits}
    assert set(constant) == truth and checks[0]["distinct_starts"] == len(truth)
    assert len(constant) >= len(truth)


@pytest.mark.parametrize("fix_length_s, codec", [(0.2, "float32"), (1.0, "float16"),
                                                   (5.0, "flac")])
def test_clips_have_fixed_length_and_the_size_rule_codec(corpus, tmp_path, fix_length_s, codec):
    result = baseline.run_baseline(corpus, tmp_path, fix_length_s=fix_length_s)
    rows = _read_batches(tmp_path)
    assert result["codecs"][codec] == result["records"] == len(rows)
    assert {r["codec"] for r in rows} == {codec}
    n = round(fix_length_s * RATE)
    for row in rows:
        assert row["n_samples"] == n and _decode(row).shape == (n,)
    assert result["bytes_written"] == sum(p.stat().st_size for p in tmp_path.glob("*.parquet"))


def test_clip_is_the_decimated_audio_from_20_ms_before_the_onset(corpus, tmp_path):
    baseline.run_baseline(corpus, tmp_path, fix_length_s=0.2)
    track_id, _, wav, _ = baseline.read_pairs(corpus)[0]
    rows = [r for r in _read_batches(tmp_path) if r["track_id"] == track_id]
    source, rate = sf.read(wav, dtype="float32")
    assert rate == 2 * RATE
    decimated = source[::2]  # the seed's "resampling": every other sample, no filter
    assert rows
    for row in rows:
        first = int(max(0.0, row["start"] - 0.02) * RATE)
        want = np.zeros(round(0.2 * RATE), dtype=np.float32)
        part = decimated[first:first + want.size]
        want[:part.size] = part
        np.testing.assert_array_equal(_decode(row), want)


def test_size_rule_boundaries_and_flac_kept_only_when_30_percent_smaller():
    kib = 1024 // 4  # float32 samples per KiB
    rng = np.random.default_rng(0)
    assert baseline.compress_clip(np.zeros(50 * kib - 1, np.float32))[1] == "float32"
    assert baseline.compress_clip(np.zeros(50 * kib, np.float32))[1] == "float16"
    assert baseline.compress_clip(np.zeros(400 * kib - 1, np.float32))[1] == "float16"
    stored, codec = baseline.compress_clip(np.zeros(400 * kib, np.float32))
    assert codec == "flac" and len(stored["compressed_audio"]) < 0.7 * 400 * kib * 2
    noise = rng.uniform(-0.9, 0.9, 5 * RATE).astype(np.float32)  # FLAC can't beat 16 bits here
    stored, codec = baseline.compress_clip(noise)
    assert codec == "float16" and stored.dtype == np.float16
    quiet = (0.01 * np.sin(np.arange(5 * RATE) / 7.0)).astype(np.float32)
    stored, codec = baseline.compress_clip(quiet)
    assert codec == "flac"
    np.testing.assert_allclose(baseline.decode_clip(stored), quiet, atol=1 / 32768)


def test_first_tempo_only_defect(corpus, plan):
    checks = baseline.baseline_records(corpus)
    errors = []
    for check, perf in zip(checks, plan):
        assert check["n_notes"] == len(perf.hits)
        errors.append(np.sort(check["note_onsets_s"]) - np.array([h.onset_s for h in perf.hits]))
    # constant tempo: every onset right to well under 1 ms; records within the 5 ms rounding
    assert checks[0]["tempo_events"] == 1
    assert np.abs(errors[0]).max() < 1e-3
    truth = np.array([h.onset_s for h in plan[0].hits])
    starts = np.array(checks[0]["onsets_s"])
    assert np.abs(starts[:, None] - truth[None, :]).min(axis=1).max() <= 0.005 + 1e-9
    # tempo change: right before the first change, wrong after it, and growing with time
    perf = plan[1]
    change_s = drums.tick_to_seconds(perf.tempo_map[1][0], perf.tempo_map)
    true_s = np.array([h.onset_s for h in perf.hits])
    assert checks[1]["tempo_events"] == len(perf.tempo_map) > 1
    assert np.abs(errors[1][true_s < change_s]).max() < 1e-3
    late = np.abs(errors[1][true_s > change_s + 1.0])
    assert late.size and late.min() > 0.01
    assert np.abs(errors[1][-1]) > np.abs(errors[1][true_s > change_s][0])
