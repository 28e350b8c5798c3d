"""Every fenced example of README.md and docs/*.md runs, as written, on the sample data that the
same page tells a new user to generate (issue 22, point 7: two examples had drifted from the
sample and failed).

The rules, which docs/RELIABILITY.md ("Issue 22") states for people writing docs:

- Each page runs in a scratch directory of its own (the repository root of a fresh clone after
  `make demo`: `.venv/bin/activate` puts this interpreter's `cadence` and `python` first), its
  blocks in page order. ```` ```python ```` blocks share one namespace per page; warnings are
  errors, as everywhere in this suite.
- ```` ```sh ```` (and ``bash``/``shell``) blocks: every line that is not a comment runs in bash,
  ```` ```console ```` blocks: every line after a ``$`` prompt. A line exits 0 unless its comment
  says ``exit N:`` (e.g. ``# exit 1: failing strides found``); no traceback on stderr, ever. Only
  the programs in ``RUNNABLE`` run (every command of a ``&&`` or ``|`` chain is checked first): a
  line calling anything else (``pip``, ``make``, ``ray``) fails the test unless marked not run.
- A line that needs what CI lacks has a comment ending in ``not run: REASON``
  (``# not run: needs a Ray cluster``, ``# on a cluster; not run: needs a Ray cluster``); a python
  block that does starts with the line ``# not run: REASON``. REASON is one of ``NOT_RUN`` below.
  Nothing else is skipped.
- Untagged fences are diagrams, file trees and formats, not examples.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])

# What CI lacks, and so the only reasons an example may be left out. Keep this short.
NOT_RUN = {
    "needs a Ray cluster": "a running cluster at a named address (the Ray tests start local ones)",
    "needs cloud credentials": "S3 / GCS credentials and buckets",
    "needs the E-GMD download": "the real ~96 GB e-gmd-v1.0.0.zip",
    "needs a built wheel": "dist/*.whl or the sdist (tests/package/ installs and runs them)",
    "builds the project": "make's apt, venv and build steps (CI runs them before this suite)",
}
# What a shell example may call: the package's command, the interpreter, the venv, a pager.
RUNNABLE = {"cadence", "python", "source", "head"}
SHELLS = {"sh", "bash", "shell", "console"}
_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_NOT_RUN = re.compile(r"\bnot run: (.*?)\s*$")
_EXIT = re.compile(r"\bexit (\d+):")
# A cluster address or a bucket in an example that is not marked: refused before it runs (an
# in-process ray.init to a missing head waits for minutes).
_ELSEWHERE = re.compile(r"\bHEAD:\d+|\b(?:s3|gs|hdfs)://")


@dataclass
class Example:
    page: str
    line: int  # 1-based line of the command, or of the block's first code line
    kind: str  # "python" or "shell"
    code: str
    exit_status: int = 0
    not_run: str | None = None


def comment_of(line: str) -> str:
    """The part of a shell line from its first unquoted ``#`` that starts a word ('' if none)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[i:]
    return ""


def programs(command: str) -> list[str]:
    """The first word of each command of a ``&&``, ``||``, ``;`` or ``|`` chain."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    words, first = [], True
    for token in lexer:
        if token in {"&&", "||", "|", ";", "&"}:
            first = True
        elif first:
            words.append(token)
            first = False
    return words


def _reason(found: str, where: str) -> str:
    assert found in NOT_RUN, f"{where}: 'not run: {found}' is not one of the reasons CI lacks: {sorted(NOT_RUN)}"
    return found


def examples(text: str, name: str) -> list[Example]:
    """The python blocks and shell command lines of a page's ``text``, in page order."""
    lines = text.splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        tag, start = opening.group(2), i + 1
        end = next(j for j in range(start, len(lines)) if lines[j].strip() == "```")
        body = textwrap.dedent("\n".join(lines[start:end])).splitlines()
        i = end + 1
        if tag == "python":
            first = body[0].strip() if body else ""
            marked = _NOT_RUN.match(first.lstrip("# ")) if first.startswith("#") else None
            out.append(Example(name, start + 1, "python", "\n".join(body),
                               not_run=_reason(marked.group(1), f"{name}:{start + 1}") if marked else None))
        elif tag in SHELLS:
            out += _commands(name, start, body, console=tag == "console")
    return out


def _commands(name: str, start: int, body: list[str], console: bool) -> list[Example]:
    found, k = [], 0
    while k < len(body):
        text, first = body[k], k
        while text.endswith("\\") and k + 1 < len(body):  # continued lines are one command
            k += 1
            text = text[:-1].rstrip() + " " + body[k].strip()
        k += 1
        if console:
            if not text.startswith("$ "):
                continue  # the command's printed output
            text = text[2:]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        where, comment = f"{name}:{start + first + 1}", comment_of(text)
        marked = _NOT_RUN.search(comment) if comment.startswith("#") else None
        status = _EXIT.search(comment)
        found.append(Example(name, start + first + 1, "shell", text.strip(),
                             exit_status=int(status.group(1)) if status else 0,
                             not_run=_reason(marked.group(1), where) if marked else None))
    return found


def _environment(scratch: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    (scratch / ".venv" / "bin").mkdir(parents=True)
    (scratch / ".venv" / "bin" / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", MPLBACKEND="Agg")
    env.pop("RAY_ADDRESS", None)
    return env


def _run_shell(example: Example, scratch: Path, env: dict[str, str]) -> None:
    called = programs(example.code)
    assert set(called) <= RUNNABLE, (f"{example.page}:{example.line}: {example.code}\ncalls {called}: only "
                                     f"{sorted(RUNNABLE)} run here; mark the line '# not run: REASON' if CI lacks "
                                     f"what it needs ({sorted(NOT_RUN)})")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", example.code], cwd=scratch, env=env,
                          capture_output=True, text=True, timeout=300)
    said = (f"{example.page}:{example.line}: {example.code}\n"
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}")
    assert done.returncode == example.exit_status, f"exit {done.returncode}, documented {example.exit_status}\n{said}"
    assert "Traceback (most recent call last)" not in done.stderr, said


def run_page(page: Path, scratch: Path, monkeypatch) -> None:
    """Runs every example of ``page`` in ``scratch``, then what its comments promise (``PROMISES``)."""
    name = str(page.relative_to(REPO))
    env = _environment(scratch)
    monkeypatch.chdir(scratch)
    namespace: dict = {"__name__": "__docs__"}
    promises = dict(PROMISES.get(name, {}))
    for example in examples(page.read_text(), name):
        if example.not_run:
            continue
        elsewhere = _ELSEWHERE.search(example.code)
        assert not elsewhere, (f"{name}:{example.line}: names {elsewhere.group(0)!r} but is not marked "
                               f"'not run: needs a Ray cluster' (or 'needs cloud credentials')")
        if example.kind == "shell":
            _run_shell(example, scratch, env)
            continue
        code = "\n" * (example.line - 1) + example.code  # a traceback names the page's own lines
        exec(compile(code, str(REPO / example.page), "exec"), namespace)  # noqa: S102 - the docs' own code
        for marker in [m for m in promises if m in example.code]:
            promises.pop(marker)(namespace)
    assert not promises, f"{name}: no python block holds {sorted(promises)} any more: update PROMISES"


def _training(ns: dict) -> None:
    assert (ns["x"].shape, ns["y"].shape) == ((128, 4410), (128, 9))


def _sequences(ns: dict) -> None:
    shapes = {k: ns["b"][k].shape for k in ("audio", "features", "onset_roll", "velocity_roll")}
    assert shapes == {"audio": (32, 88200), "features": (32, 400, 128), "onset_roll": (32, 400, 9),
                      "velocity_roll": (32, 400, 9)}


def _mixing(ns: dict) -> None:
    mixed = ns["mixed"]
    assert mixed.names == ["enst", "mdb"] and len(mixed) == len(ns["enst"]) + len(ns["mdb"])
    assert (ns["x"].shape[1], ns["y"].shape[1]) == (4410, 5) and set(ns["where"]) == {"enst", "mdb"}
    assert [round(p, 3) for p in mixed.probabilities.values()] == [0.418, 0.582]  # as the comment says
    assert len(ns["rank0"]) == -(-len(mixed) // 2) and ns["seq"].mode == "sequences"


def _notebook(ns: dict) -> None:
    assert ns["outliers"].tolist() == [12]
    assert "mass_kg" in ns["merged"].columns


def _spm(ns: dict) -> None:
    assert ns["table"].columns.tolist()[:6] == ["feature", "start", "end", "extent", "p", "sign"]
    assert ns["table"].attrs["skipped"] == {} and set(ns["table"]["feature"]) <= set(ns["angles"])
    assert ns["incline"].shape == (4, 40, 150) and ns["t"].df == (1, 3)
    assert len(ns["snpm"].PDF0) == 35 and ns["snpm"].nPermUnique == 70


# What some python blocks promise in their comments, checked right after the block holding the
# marker ran (later blocks reuse names).
PROMISES = {
    "README.md": {
        "ds.read_batch(range(128))": lambda ns: _equal(ns["batch"]["audio"].shape, (128, 4410)),
        "loco.get_cycles(": lambda ns: _equal(ns["cycles"].shape[1:], (150, len(ns["names"]))),
        "omit.spm_compare(": lambda ns: _equal(  # incline vs level walking differ somewhere, in features of the file
            (len(ns["clusters"]) > 0, ns["clusters"].columns.tolist()[:6], set(ns["clusters"]["feature"]) <= set(ns["angles"])),
            (True, ["feature", "start", "end", "extent", "p", "sign"], True)),
    },
    "docs/drums.md": {"for batch in loader:": _training, 'mode="sequences"': _sequences, "drums.mix(": _mixing},
    "docs/gait.md": {
        'load_feature_matrix("features.npy")': lambda ns: _equal(  # 610 cycles, 40 features x 11
            (ns["m"].matrix.shape, len(ns["m"].columns)), ((610, 440), 440)),
        "valid_only=True": _notebook,
        "table = loco.cycle_features()": lambda ns: _equal(len(ns["table"]), 610),
        "spm.ttest_paired(": _spm,
    },
}


def _equal(got, expected) -> None:
    assert got == expected


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_fenced_example_runs_on_the_sample(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    try:
        run_page(page, tmp_path, monkeypatch)
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")


def test_the_runner_reads_the_conventions():
    """Exit statuses, not-run marks, continued lines, console prompts, indented python blocks;
    an unknown not-run reason fails rather than skipping."""
    text = ("```sh\ncadence a | b   # x '#' y; exit 1: found problems\n# a comment\n\n"
            "cadence c \\\n  --d 'e # f'   # not run: needs a Ray cluster\n```\n"
            "```console\n$ cadence g\nprinted\n```\n"
            "- item\n\n  ```python\n  # not run: needs cloud credentials\n  x = 1\n  ```\n"
            "```\ncadence diagram\n```\n")
    found = [(e.line, e.kind, e.code, e.exit_status, e.not_run) for e in examples(text, "probe.md")]
    with pytest.raises(AssertionError, match="probe.md:2: 'not run: too slow' is not one of"):
        examples("```sh\ncadence z   # not run: too slow\n```\n", "probe.md")
    assert found == [
        (2, "shell", "cadence a | b   # x '#' y; exit 1: found problems", 1, None),
        (5, "shell", "cadence c --d 'e # f'   # not run: needs a Ray cluster", 0, "needs a Ray cluster"),
        (9, "shell", "cadence g", 0, None),
        (15, "python", "# not run: needs cloud credentials\nx = 1", 0, "needs cloud credentials"),
    ]
