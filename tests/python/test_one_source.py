"""Issue 23 (1, 2): what the engine defines is read from the engine, once; modules meet through
public names (GaitFile.from_schema, LocomotionDataCache.memoize, Job.reserve/release)."""

import inspect
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import cadence
from cadence import _core
from cadence.cli import drums as cli_drums
import importlib

from cadence.drums import dataset, directory, store
from cadence.gait import features, phase, reader
from cadence.gait.cache import LocomotionDataCache
from cadence.sample import gait as sample_gait

PACKAGE = Path(cadence.__file__).parent
prepare_mod = importlib.import_module("cadence.drums.prepare")  # the module (drums.prepare is the function)


def sources():
    return {p.relative_to(PACKAGE).as_posix(): p.read_text() for p in PACKAGE.rglob("*.py")}


def test_codec_ids_and_reject_names_are_the_engines():
    assert _core.drums_codecs() == ["auto", "flac", "pcm16", "float16", "float32"]
    assert directory.CODEC_IDS == {"flac": 1, "pcm16": 2, "float16": 3, "float32": 4}
    assert prepare_mod.CODECS == ("flac", "pcm16", "float16", "float32")
    reasons = _core.drums_reject_reasons()
    assert reasons[0] == "none" and {"missing_audio", "missing_midi", "misaligned"} <= set(reasons)
    from cadence.drums import corpus

    assert (corpus.MISSING_AUDIO, corpus.MISSING_MIDI) == ("missing_audio", "missing_midi")
    listings = [t for p, t in sources().items() if p.startswith("drums/") and p != "drums/corpus.py"]
    assert not any('"missing_audio"' in t or '"missing_midi"' in t for t in listings)


def test_prepare_defaults_are_the_engines_and_read_by_signature_and_cli():
    engine = _core.drums_prepare_defaults()
    d = prepare_mod.DEFAULTS
    for name in ("layout", "sample_rate_hz", "pad_before_s", "clip_s", "codec", "index_codec", "flac_level",
                 "csv_tolerance_s", "midi_tolerance_s", "align"):
        assert d[name] == engine[name], name
    assert (d["layout"], d["sample_rate_hz"], d["codec"]) == ("index", 22050, "auto")
    assert d["merge_ms"] == engine["merge_s"] * 1e3 == 10.0
    signature = inspect.signature(prepare_mod.prepare.__wrapped__ if hasattr(prepare_mod.prepare, "__wrapped__")
                                  else prepare_mod.prepare).parameters
    for name in ("seed", "layout", "sample_rate_hz", "mapping", "merge_ms", "pad_before_s", "clip_s", "codec",
                 "index_codec", "flac_level", "csv_tolerance_s", "midi_tolerance_s", "align", "shard_size"):
        assert signature[name].default == d[name], name
    for option, value in cli_drums.PREPARE_DEFAULTS.items():
        assert value == d[cli_drums._KWARGS[option]], option


def test_phase_defaults_and_stride_drops_are_the_engines():
    engine = _core.gait_phase_defaults()
    assert phase.THRESHOLD_N == engine["threshold"] == 50.0 and phase.THRESHOLD_BW == engine["threshold_bw"] == 0.05
    signature = inspect.signature(phase.to_phase).parameters
    for name, value in phase.DEFAULTS.items():
        assert signature[name].default == value == engine[name], name
    assert phase.STRIDE_DROP_REASONS == ("trial_start", "trial_end", "too_short", "too_long", "duration_outlier",
                                         "no_heel_strikes")
    assert features.CYCLE_DROP_REASONS == tuple(_core.gait_drop_reasons())
    assert not hasattr(phase, "DROP_REASONS") and not hasattr(features, "DROP_REASONS")


def test_no_literal_copies_left():
    """The literals the issue found copied by hand are gone from the package."""
    text = sources()
    copies = {
        "codec table": re.compile(r"\{\s*\"flac\"\s*:\s*1"),
        "codec tuple": re.compile(r"\(\s*\"flac\"\s*,\s*\"pcm16\""),
        "fallback rate": re.compile(r"or 22050\b"),
        "journal file name": re.compile(r"\"journal\.jsonl\""),
        "shard name": re.compile(r"\{[a-z.]*shard:05d\}"),
        "pair columns": re.compile(r"\"pair_id\", \"source_id\", \"drummer\""),
    }
    found = {what: sorted(p for p, t in text.items() if rx.search(t)) for what, rx in copies.items()}
    assert found == {"codec table": [], "codec tuple": [], "fallback rate": [],
                     "journal file name": ["drums/store.py"], "shard name": ["drums/store.py"],
                     "pair columns": ["drums/store.py"]}


def test_shard_file_rule():
    assert store.shard_file("records", 3) == "records-00003.parquet"
    assert store.shard_file("audio", 12, "bin") == "audio-00012.bin"
    assert dataset.PAIR_COLUMNS is store.PAIR_COLUMNS


def test_phase_grid_is_one_read_only_array():
    assert reader.PHASE_GRID_PCT.shape == (150,) and not reader.PHASE_GRID_PCT.flags.writeable
    assert np.array_equal(sample_gait.PHASE_IPSI, reader.PHASE_GRID_PCT)
    with pytest.raises(ValueError):
        reader.PHASE_GRID_PCT[0] = 1.0


def test_gait_file_type_rule_is_one(tmp_path):
    """An unknown suffix: GaitFile tries both readers, as LocomotionData does (it used to assume
    Parquet and fail on a CSV named .dat)."""
    n = 150
    table = pa.table({"subject": ["S1"] * n, "task": ["walk"] * n, "step": [0] * n,
                      "phase_ipsi": np.linspace(0, 100, n), "knee_flexion_angle_ipsi_rad": np.zeros(n)})
    csv_path = tmp_path / "walk.dat"
    pacsv.write_csv(table, csv_path)
    assert reader.GaitFile(csv_path).file_type == "csv"
    pq_path = tmp_path / "walk.bin"
    pq.write_table(table, pq_path)
    assert reader.GaitFile(pq_path).file_type == "parquet"


def test_gait_file_from_schema_matches_an_opened_file(tmp_path):
    n = 300
    table = pa.table({"subject": ["S1"] * n, "task": ["walk"] * n, "step": [0] * 150 + [1] * 150,
                      "phase_ipsi": np.tile(np.linspace(0, 100, 150), 2), "knee_flexion_angle_ipsi_rad": np.zeros(n)})
    path = tmp_path / "walk.parquet"
    pq.write_table(table, path)
    opened = reader.GaitFile(path)
    remote = reader.GaitFile.from_schema(str(path), pq.read_schema(path), n, subject_col="subject", task_col="task",
                                         phase_col="phase_ipsi", step_col="step")
    assert vars(remote) == vars(opened)


def test_memoize_computes_once_and_serves_the_stored_value(tmp_path):
    cache = LocomotionDataCache(tmp_path / "c")
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(4.0), "n": 3}

    first = cache.memoize("f", (1, "a"), None, compute)
    second = cache.memoize("f", (1, "a"), None, compute)
    assert len(calls) == 1
    assert np.array_equal(second["x"], first["x"]) and second["n"] == 3
    assert np.array_equal(cache.get("f", (1, "a"))["x"], first["x"])
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 1


def test_job_reserve_and_release_are_runtime_calls():
    job = _core.Job(1, 1000)
    job.reserve(600)
    assert job.reserved_bytes == 600
    job.release(600)
    assert job.reserved_bytes == 0 and job.peak_reserved_bytes == 600
    assert not hasattr(_core, "gait_reserve") and not hasattr(_core, "gait_release")
