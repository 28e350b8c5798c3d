"""The corpus of the drum preparation benchmarks (drums_alignment_bench, drums_zip_bench): the
drums sample with seed 1 and 20-40 s performances, generated into a scratch directory or reused
from ``--data``."""

from __future__ import annotations

import argparse
from pathlib import Path

from cadence.sample import drums as sample


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--kits", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--data", type=Path, help="reuse a corpus directory")


def corpus(args: argparse.Namespace, scratch: Path) -> Path:
    """``--data``, or the sample generated under ``scratch``; generated only when absent."""
    root = args.data or scratch / "corpus"
    if not (root / sample.CSV_NAME).exists():
        sample.generate(root, performances=args.performances, kits=args.kits, seed=1,
                        min_duration_s=20, max_duration_s=40)
    return root
