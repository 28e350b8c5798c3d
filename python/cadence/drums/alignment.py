"""MIDI/audio alignment of a prepared directory: per file and per kit.

The engine estimates each pair's offset (audio time - MIDI time; src/cadence/drums/alignment.h)
while preparing; every commit of the journal keeps ``alignment_by_input`` ({pair_id: [kit,
offset_ms, peak_ratio]}), rejected pairs included, so the report, the manifest and `cadence
drums inspect` describe the whole directory however many runs made it.
"""

from __future__ import annotations

import math

import numpy as np


def record(by_input: dict, pair_id: str, kit: str, stats: dict) -> None:
    """Keep one pair's estimate (nothing when the engine could not make one)."""
    offset_s = stats.get("align_offset_s", math.nan)
    if offset_s is not None and math.isfinite(offset_s):
        by_input[pair_id] = [kit, round(offset_s * 1e3, 3), round(float(stats.get("align_peak_ratio", 0.0)), 2)]


def _stats(ms: list[float]) -> dict:
    a = np.asarray(ms, float)
    return {"files": int(a.size), "median_ms": round(float(np.median(a)), 3), "mean_ms": round(float(a.mean()), 3),
            "min_ms": round(float(a.min()), 3), "max_ms": round(float(a.max()), 3),
            "abs_max_ms": round(float(np.abs(a).max()), 3)}


def summarize(commits, max_offset_ms: float | None = None, aligned: bool = False) -> dict:
    """Offsets over every commit: all files, per kit, and the files beyond `max_offset_ms`."""
    by_input: dict[str, list] = {}
    for c in commits:
        by_input.update(c.stats.get("alignment_by_input", {}))
    if not by_input:
        return {"files": 0}
    per_kit: dict[str, list[float]] = {}
    for kit, ms, _ in by_input.values():
        per_kit.setdefault(kit or "(no kit)", []).append(ms)
    out = _stats([ms for _, ms, _ in by_input.values()])
    out["per_kit"] = {k: _stats(v) for k, v in sorted(per_kit.items())}
    out["max_offset_ms"] = max_offset_ms
    out["onsets_corrected"] = aligned
    if max_offset_ms is not None:
        out["beyond_max"] = sorted(p for p, (_, ms, _) in by_input.items() if abs(ms) > max_offset_ms)
    return out


def by_input(commits) -> dict[str, float]:
    """pair_id -> offset in ms, for the manifest."""
    out: dict[str, float] = {}
    for c in commits:
        out.update({p: v[1] for p, v in c.stats.get("alignment_by_input", {}).items()})
    return out


def format_lines(a: dict) -> list[str]:
    """Two lines for a terminal: the overall offsets, then each kit's median."""
    if not a or not a.get("files"):
        return []
    beyond = a.get("beyond_max")
    lines = [f"  alignment      audio - MIDI over {a['files']} files: median {a['median_ms']:+.1f} ms, "
             f"range {a['min_ms']:+.1f} .. {a['max_ms']:+.1f} ms"
             + (", onsets corrected (--align)" if a.get("onsets_corrected") else "")
             + (f"; {len(beyond)} beyond {a['max_offset_ms']:g} ms (rejected)" if beyond else "")]
    kits = ", ".join(f"{k} {v['median_ms']:+.1f}" for k, v in a.get("per_kit", {}).items())
    if kits:
        lines.append(f"  per kit (median ms) {kits}")
    return lines
