"""Benchmark: `drums prepare` on every dataset layout against E-GMD, on audio of the same length
and rate (issue 19 target: each layout's index-layout rate, realtime per core, within 10 % of
E-GMD's; what differs is only how the pairs are found and the annotations read).

Each layout's sample (`cadence sample drums --layout NAME`) and the E-GMD sample are made, then
every recording a pair reads is replaced by the same audio (the E-GMD sample's drums looped,
mono 44.1 kHz 16-bit WAV; libsndfile tells formats by content, so a ``.mp3`` or ``.flac`` name
holding WAV bytes decodes the same), `--seconds` in all per layout, split evenly over its pairs. Each corpus is prepared with one job, index layout,
rounds interleaved (layout after layout, then again) so that load drifts hit all alike; the
rate is audio seconds per CPU second of the whole run (listing, engine, shards, journal,
report), the median over rounds, and each layout's
ratio to E-GMD's in the same run. StemGMD sums nine stems per pair: it decodes nine files per
second of output, so its rate is also given per decoded second. Checked: every layout prepares
every pair (no rejects) and the record counts are the annotations'.

usage: python bench/drums_datasets_bench.py [--rounds 3] [--seconds 600]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from cadence import drums
from cadence.drums import datasets
from cadence.drums.corpus import Corpus
from cadence.sample import drums as egmd_sample
from cadence.sample import layouts

RATE = 44_100


def _audio(seconds: float, drums_audio: np.ndarray, where: Path) -> bytes:
    """`seconds` of the E-GMD sample's drums, looped, as WAV bytes."""
    path = where / f"bench-{seconds:.3f}.wav"
    soundfile.write(path, np.resize(drums_audio, round(seconds * RATE)), RATE, subtype="PCM_16")
    return path.read_bytes()


def _corpora(base: Path, total_s: float) -> dict[str, Path]:
    """Every layout with `total_s` of audio in all, split evenly over its pairs (so that the
    per-run costs weigh alike on every layout)."""
    egmd = base / "egmd"
    egmd_sample.generate(egmd, performances=4, kits=1, min_duration_s=8.0, max_duration_s=12.0)
    drums_audio = np.concatenate([soundfile.read(p, dtype="float32", always_2d=True)[0].mean(axis=1)
                                  for p in sorted(egmd.rglob("*.wav"))])
    roots = {"egmd": egmd}
    for name in (n for n in layouts.LAYOUTS if n != "egmd"):
        layouts.generate(name, base / name)
        top = layouts.TOP_FOLDERS[name]
        roots[name] = base / name / top if top else base / name
    for name, root in roots.items():
        listing = datasets.list_pairs(Corpus(root))
        wav = _audio(total_s / len(listing.pairs), drums_audio, base)
        for pair in listing.pairs:
            for rel in pair.audio_paths:
                (root / rel).write_bytes(wav)
    return roots


def _cpu_s() -> float:
    """This process's CPU seconds (every thread): a rate per core that the machine's other load
    disturbs far less than wall time does."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=600.0, help="audio of each layout, in all")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cadence-datasets-bench-") as tmp:
        base = Path(tmp)
        roots = _corpora(base, a.seconds)
        rates: dict[str, list[float]] = {n: [] for n in roots}
        facts: dict[str, dict] = {}
        for r in range(a.rounds):
            for name, root in roots.items():
                out = base / f"out-{name}-{r}"
                # The CSVs' durations are the original files': the bench recordings are longer.
                before = _cpu_s()
                report = drums.prepare(root, out, layout="index", jobs=1, show_progress=False, csv_tolerance_s=1e6)
                cpu_s = _cpu_s() - before
                assert report["files_ok"] == len(datasets.list_pairs(Corpus(root)).pairs), name
                assert not report["rejected"] or name == "gmd", (name, report["rejected"])  # GMD: a MIDI-only row
                rates[name].append(report["audio_hours"] * 3600 / cpu_s)
                n_audio = len(datasets.list_pairs(Corpus(root)).pairs[0].audio_paths)
                facts[name] = {"pairs": report["files_ok"], "records": report["records"],
                               "audio_s": report["audio_hours"] * 3600, "files_per_pair": n_audio}
                shutil.rmtree(out)
        base_rate = statistics.median(rates["egmd"])
        rows = []
        for name in roots:
            rate = statistics.median(rates[name])
            f = facts[name]
            rows.append({"layout": name, **f, "audio_s_per_cpu_s": round(rate, 1),
                         "ratio_to_egmd": round(rate / base_rate, 3),
                         "decoded_s_per_cpu_s": round(rate * f["files_per_pair"], 1)})
        print("| layout | pairs | records | audio s | files a pair | audio s per CPU s | ratio to E-GMD | decoded s per CPU s |")
        print("|---|---|---|---|---|---|---|---|")
        for x in rows:
            print(f"| {x['layout']} | {x['pairs']} | {x['records']} | {x['audio_s']:.0f} | {x['files_per_pair']} | "
                  f"{x['audio_s_per_cpu_s']} | {x['ratio_to_egmd']} | {x['decoded_s_per_cpu_s']} |")
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
