"""The ``cadence`` command line. Each command group lives in its own module.

Exit status, the same for every command (README, "Exit status"):

- 0 (:data:`EXIT_OK`): done.
- 1 (:data:`EXIT_PROBLEMS`): the command ran and found problems (``drums verify``, ``gait
  validate``); the problems are listed on stdout.
- 2 (:data:`EXIT_USAGE`): bad usage or bad input, e.g. a missing or unreadable path, an output
  that cannot be written or that another cadence is writing (lock.py), a value out of range, a
  file that is not what the command expects.
  One line on stderr names the path and what to do; never a traceback.
- 130 (:data:`EXIT_INTERRUPTED`): interrupted (Ctrl-C); finished outputs are kept.
- 141 (:data:`EXIT_BROKEN_PIPE`): the reader of stdout went away (``cadence ... | head``): the
  command stops quietly, with the status a Unix tool killed by SIGPIPE gives (128 + 13).

Anything else that escapes a command is a bug in cadence: it prints a traceback (exit 1).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys


EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class _VersionAction(argparse.Action):
    """`cadence --version`: the version, then what the engine was built with (cadence.build_info),
    gathered only when asked."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import build_info
        info = build_info()
        lines = [f"cadence {info.pop('cadence')}"] + [f"  {k}: {v}" for k, v in info.items()]
        print("\n".join(lines))  # stdout, as argparse's own --version and --help print
        parser.exit()


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


# A user's mistake, whatever raised it: a path that is missing, unreadable or not writable
# (OSError, including pyarrow's and the atomic writer's), a value or a file's content that is not
# what the command needs (ValueError, which covers pyarrow.ArrowInvalid, json and Unicode errors).
USER_ERRORS: tuple[type[BaseException], ...] = (CliError, OSError, ValueError)


_HINTS = {
    errno.EROFS: "choose an output location you can write to",
    errno.EACCES: "check the permissions, or choose another location",
    errno.EPERM: "check the permissions, or choose another location",
    errno.ENOSPC: "free some space, or choose another location",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a file is in the way where a directory is expected; check the path",
    errno.EISDIR: "a directory is in the way where a file is expected; give a file name",
    errno.EEXIST: "something is in the way at that path; choose another one",
}


def error_message(e: BaseException) -> str:
    """One line for a user's mistake, naming the path when the exception knows it and saying
    what to do for the usual operating-system errors."""
    text = str(e)
    if isinstance(e, OSError) and e.strerror:
        if e.filename is not None and str(e.filename) in e.strerror:
            return e.strerror  # our own message: it names the path and says what to do
        if text.startswith("[Errno") or (e.filename is not None and str(e.filename) not in text):
            # "[Errno 30] Read-only file system: 'x'" or a bare "Read-only file system" -> "x: ...; hint"
            where = f"{e.filename}: " if e.filename is not None else ""
            hint = _HINTS.get(e.errno)
            text = f"{where}{e.strerror}" + (f"; {hint}" if hint else "")
    return text or type(e).__name__


def build_parser() -> argparse.ArgumentParser:
    from . import drums, gait, sample

    parser = argparse.ArgumentParser(
        prog="cadence",
        description="Fast, trustworthy preparation and analysis of event-segmented time series: "
        "drum-transcription training data (E-GMD) and gait cycles (LocoHub).",
        epilog="exit status: 0 done, 1 problems found (verify, validate), 2 bad usage or input, "
        "130 interrupted, 141 output pipe closed (as Unix tools)",
    )
    parser.add_argument("--version", action=_VersionAction,
                        help="show the version, the native libraries and the SIMD paths, then exit")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    sample.register(groups)
    drums.register(groups)
    gait.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cadence`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)  # bad usage: argparse prints it and exits 2
    try:
        return int(args.run(args) or EXIT_OK)
    except BrokenPipeError as e:
        if not _stdout_closed():
            print(f"cadence: error: {error_message(e)}", file=sys.stderr)
            return EXIT_USAGE
        # `cadence ... | head`: the reader has what it wanted. stdout now points at /dev/null, so
        # that the interpreter's last flush of it cannot fail (and print) again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("cadence: interrupted; outputs already finished are kept, nothing half-written replaced them",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except USER_ERRORS as e:
        print(f"cadence: error: {error_message(e)}", file=sys.stderr)
        return EXIT_USAGE


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader has gone (POLLERR), as opposed to a BrokenPipeError
    of some other pipe (a helper process that died), which is an error to report."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # stdout replaced (captured): not the broken pipe
        return False
    if not hasattr(select, "poll"):  # no poll() on this system: take it to be stdout
        return True
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poll.poll(0))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
