"""A prepared directory's report.json: marking a run in progress, the earlier runs' segments,
and the text a terminal shows (`cadence drums prepare`). The report's figures are gathered by
prepare.py from the journal's commits."""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import atomic_path
from ..text import counts, plural
from . import alignment as alignment_mod
from .store import REPORT


def mark_running(out: Path, planned: int) -> None:
    """Mark OUT's report as a run in progress (``interrupted`` until this run's own report
    replaces it), so that a run killed outright leaves a directory that says it is incomplete
    (store.progress). The earlier runs' figures and segments are kept."""
    try:
        report = json.loads((out / REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: nesting deeper than json parses
        report = {}
    report = report if isinstance(report, dict) else {}
    with atomic_path(out / REPORT) as tmp:
        tmp.write_text(json.dumps(report | {"interrupted": True, "inputs_planned": planned}, indent=1) + "\n",
                       encoding="utf-8")


def previous_segments(out: Path) -> list[dict]:
    """The runs listed in the report of an earlier run into `out` (none if it has no report)."""
    try:
        segments = json.loads((out / REPORT).read_text(encoding="utf-8")).get("segments", [])
    except (OSError, ValueError, AttributeError, RecursionError):
        return []
    return segments if isinstance(segments, list) else []


def records_in(commit) -> int:
    """Records in a commit (the clips or onsets file's rows)."""
    return sum(f["rows"] for name, f in commit.files.items() if name.startswith(("records-", "onsets-")))


def format_report(r: dict) -> str:
    """The report as a terminal shows it. A run that found nothing left to do (a --resume of a
    finished directory) says so instead of printing its speed as 0x realtime."""
    codecs = ", ".join(f"{c}: {v['clips']:,} ({v['bytes'] / 1e6:.1f} MB)" for c, v in r["codecs"].items())
    stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages_s"].items())
    segments = r.get("segments") or [{}]
    run = segments[-1]
    rejected = sum(r["rejected"].values())
    lines = [
        f"{'INTERRUPTED: ' if r['interrupted'] else ''}{plural(r['files_ok'], 'file')} -> "
        f"{plural(r['records'], 'record')} ({r['audio_hours']:.3f} h audio)"
        + (f" over {plural(len(segments), 'run')}" if len(segments) > 1 else ""),
    ]
    if run and not run.get("inputs_this_run", 1) and not r["interrupted"]:
        lines.append("  this run       nothing to do: every input is already prepared or rejected")
    else:
        lines += [
            f"  this run       {plural(run.get('files_ok', 0), 'file')} -> {plural(run.get('records', 0), 'record')} "
            f"in {r['wall_s']:.1f} s",
            f"  speed          {r['files_per_s']:.1f} files/s, {r['records_per_s']:,.0f} records/s, "
            f"{r['audio_s_per_s']:,.0f}x realtime on {plural(r['jobs'], 'job')}",
            f"  stages (cpu s) {stages or '-'}",
            f"  memory         peak reserved {r['peak_reserved_bytes'] / 2**20:.1f} MiB of "
            f"{r['memory_limit_bytes'] / 2**20:.0f} MiB limit ({plural(r['memory_waits'], 'wait')}), "
            f"peak RSS {r['peak_rss_bytes'] / 2**20:.0f} MiB",
        ]
    lines += [
        f"  stored audio   {codecs or '-'}; {r['compression_ratio'] or 0:.3f} of float32",
        f"  output         {r['output_bytes'] / 1e6:.1f} MB, "
        f"{r['records_per_gb'] or 0:,.0f} records/GB",
        f"  rejected       {rejected:,}" + (f" ({counts(r['rejected'])}; listed in rejects.csv)" if rejected else ""),
        f"  unmapped hits  {r['unmapped_hits']:,}"
        + (f" ({counts(r['unmapped_by_pitch'], key='pitch {}:')})" if r["unmapped_by_pitch"] else ""),
    ]
    for dataset, labels in (r.get("unmapped_labels") or {}).items():  # labels with no GM pitch: no record
        lines.append(f"  unmapped labels {sum(labels.values()):,} ({dataset}: {counts(labels)})")
    if r.get("records_dropped"):
        lines.append(f"  records left out {counts(r['records_dropped'])}")
    if r.get("channels") or (r.get("notes_by_channel") and set(r["notes_by_channel"]) != {"10"}):
        lines.append(f"  notes by channel {counts(r['notes_by_channel'], key='channel {}')}")
    if r.get("unpaired_files"):
        shown = ", ".join(r["unpaired_files"][:5])
        more = f" and {len(r['unpaired_files']) - 5} more" if len(r["unpaired_files"]) > 5 else ""
        lines.append(f"  not paired     {plural(len(r['unpaired_files']), 'file')}: {shown}{more} "
                     f"(listed in report.json)")
    lines += alignment_mod.format_lines(r.get("alignment", {}))
    lines += [f"  recovered      {x}" for x in r["recovered"]]
    return "\n".join(lines) + "\n"
