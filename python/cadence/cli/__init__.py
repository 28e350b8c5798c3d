"""The ``cadence`` command line. Each command group lives in its own module."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import drums, gait, sample


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cadence",
        description="Fast, trustworthy preparation and analysis of event-segmented time series: "
        "drum-transcription training data (E-GMD) and gait cycles (LocoHub).",
    )
    parser.add_argument("--version", action="version", version=f"cadence {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    sample.register(groups)
    drums.register(groups)
    gait.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cadence`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("cadence: interrupted; finished outputs are kept, nothing partial was written",
              file=sys.stderr)
        return 130
    except CliError as e:
        print(f"cadence: error: {e}", file=sys.stderr)
        return 2


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
