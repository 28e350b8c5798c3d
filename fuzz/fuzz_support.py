"""Shared by the atheris targets of our own files (resume_fuzz, prepared_fuzz, gait_cache_fuzz,
gait_input_fuzz): the sanitized engine, coverage of cadence's Python code, scratch space, and
the oracle "a valid result, or the project's error type, never anything else".

The engine: `make fuzz` builds ``cadence._core`` a second time in build/fuzz/ with clang's
``-fsanitize=address,undefined`` (beside the libFuzzer targets, from the same objects) and runs
these targets with ``CADENCE_FUZZ_CORE`` naming that module and build/fuzz/asan_ubsan_fuzzer.so
preloaded (clang's ASan runtime with UBSan, its C++ part and libFuzzer in one library; atheris'
own asan_with_fuzzer.so lacks UBSan's C++ handlers, so the module would not load), so that every
engine call a target makes (Parquet-derived offsets into ``AudioStore``, FLAC frame tables, the
gait kernels) runs under ASan/UBSan, and the engine's coverage guides the fuzzer beside that of
cadence's Python code. Without the variable the targets use the editable install's engine (quick
smoke runs).
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import inspect
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
import warnings
from pathlib import Path


def use_fuzz_engine() -> str | None:
    """Make ``import cadence._core`` load $CADENCE_FUZZ_CORE (call before importing cadence).
    scikit-build-core's editable finder sits first on sys.meta_path; this one goes before it."""
    path = os.environ.get("CADENCE_FUZZ_CORE")
    if not path:
        return None
    if not os.path.isfile(path):
        raise SystemExit(f"CADENCE_FUZZ_CORE={path}: no such file (make fuzz builds it in build/fuzz/)")

    class _Finder:
        @staticmethod
        def find_spec(name, target_path=None, target=None):
            if name != "cadence._core":
                return None
            return importlib.util.spec_from_file_location(
                name, path, loader=importlib.machinery.ExtensionFileLoader(name, path))

    sys.meta_path.insert(0, _Finder)
    return path


def instrument_cadence(atheris) -> int:
    """Instrument every Python function and method defined in the loaded cadence modules.
    (atheris.instrument_imports() cannot see through the editable install's import hook.)"""
    done: set[int] = set()

    def visit(obj, module: str) -> None:
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        if isinstance(obj, property):
            for f in (obj.fget, obj.fset, obj.fdel):
                if f is not None:
                    visit(f, module)
            return
        if isinstance(obj, types.FunctionType) and obj.__module__ == module and id(obj) not in done:
            done.add(id(obj))
            with contextlib.suppress(Exception):  # a function atheris cannot patch stays as it is
                atheris.instrument_func(obj)
        elif inspect.isclass(obj) and obj.__module__ == module and id(obj) not in done:
            done.add(id(obj))
            for member in vars(obj).values():
                visit(member, module)

    for name, mod in list(sys.modules.items()):
        if mod is not None and (name == "cadence" or name.startswith("cadence.")) and name != "cadence._core":
            for obj in list(vars(mod).values()):
                visit(obj, name)
    return len(done)


def sample_drums(root: Path, **options) -> None:
    """The sample drum corpus (cadence.sample.drums.generate) written by a child process on the
    editable install's engine: rendering is not what these targets check, and TinySoundFont
    (vendor/tsf) calls its stream functions through a pointer of another type, which UBSan's
    `function` check stops at (docs/RELIABILITY.md, "Known and accepted")."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "CADENCE_FUZZ_CORE", "ASAN_OPTIONS")}
    code = f"from cadence.sample import drums; drums.generate({str(root)!r}, **{options!r})"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def scratch(target: str) -> Path:
    """A fixed scratch directory per target (in /dev/shm when there is one), emptied on start
    (a crashed run's is reused), so that runs leave no litter and inputs never touch a disk."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    d = Path(base) / f"cadence_{target}_{os.getuid()}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d


def run_cli(*argv) -> tuple[int, str]:
    """``cadence ARGV`` in this process: (exit status, stdout and stderr). Exit statuses other than 0, 1 and
    2 and any exception that escapes `main` (a traceback: a bug in cadence) fail the target."""
    from cadence.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:  # argparse: bad usage
            code = e.code if isinstance(e.code, int) else 2
    text = err.getvalue()
    if code not in (0, 1, 2):
        raise AssertionError(f"cadence {' '.join(map(str, argv))}: exit {code}\n{text}")
    if code == 2 and "cadence: error: " not in text and "usage:" not in text:
        raise AssertionError(f"cadence {' '.join(map(str, argv))}: exit 2 without an error line\n{text}")
    return code, out.getvalue() + text


def copy_tree(src: Path, dst: Path) -> None:
    """dst becomes a copy of src (plain files only)."""
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)


def hostile_json(fdp, depth: int = 0):
    """A JSON value of a type or size no writer of ours produces."""
    kind = fdp.ConsumeIntInRange(0, 17)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-3, 3)
    if kind == 3:
        return fdp.PickValueInList([2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**30])
    if kind == 4:
        return fdp.PickValueInList([1e308, -0.0, 0.5, float("nan"), float("inf"), float("-inf")])
    if kind == 5:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 12))
    if kind == 6:
        return fdp.PickValueInList(["../escape", "/etc/hostname", "records-00000.parquet", "audio-00001.bin",
                                    "journal.jsonl", ".", "", "a\nb", "x" * 5000])
    if kind == 7:
        return [] if fdp.ConsumeBool() else {}
    if kind == 8:  # deep nesting: a recursion limit is not a parse error the reader knows
        n = fdp.ConsumeIntInRange(1, 3000)
        return json.loads("[" * n + "]" * n) if n < 900 else {"deep": n}
    if kind == 9 and depth < 3:
        return [hostile_json(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if kind == 10 and depth < 3:
        return {fdp.ConsumeUnicode(4): hostile_json(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))}
    if kind == 11:
        return fdp.PickValueInList(["header", "commit", "clips", "index", "gmd9", "flac", "pcm16"])
    if kind == 12:
        return {"rows": hostile_json(fdp, 3), "bytes": hostile_json(fdp, 3), "sha256": hostile_json(fdp, 3)}
    if kind == 13:
        return {"pair_id": hostile_json(fdp, 3), "reason": hostile_json(fdp, 3), "message": hostile_json(fdp, 3)}
    return fdp.ConsumeIntInRange(-(2**40), 2**40)


KEYS = ["type", "shard", "files", "inputs", "rejects", "stats", "version", "config", "segments", "interrupted",
        "inputs_planned", "rows", "bytes", "sha256", "t", "v", "blob", "blobs", "blake2b", "function", "value",
        "format", "engine", "max_bytes", "columns", "dtype"]


def hostile_text(fdp) -> bytes:
    """JSON-ish text that Python's json module turns into errors other than a plain syntax error,
    or into values a writer never makes: deep nesting, 5000-digit numbers, NaN, a BOM, UTF-16."""
    kind = fdp.ConsumeIntInRange(0, 6)
    if kind == 0:
        n = fdp.ConsumeIntInRange(500, 200_000)
        return b"[" * n + b"]" * n
    if kind == 1:
        n = fdp.ConsumeIntInRange(500, 100_000)
        return b'{"type": "commit", "shard": ' + b"[" * n + b"]" * n + b"}"
    if kind == 2:
        return b'{"type": "header", "version": ' + b"9" * fdp.ConsumeIntInRange(4000, 6000) + b"}"
    if kind == 3:
        return b'{"type": "commit", "shard": NaN, "files": {}, "inputs": [], "rejects": [], "bytes": -Infinity}'
    if kind == 4:
        return b"\xef\xbb\xbf" + fdp.ConsumeBytes(64)
    if kind == 5:
        return '{"type": "header"}'.encode("utf-16")
    return b'{"type": "commit", "type": "header", "version": 2, "config": {}, "config": []}'


def edit_json(value, fdp):
    """`value` with one place (reached by fuzzed steps into dicts and lists) replaced, removed, or
    given a new key."""
    if isinstance(value, (dict, list)) and value and fdp.ConsumeIntInRange(0, 3):
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        k = keys[fdp.ConsumeIntInRange(0, len(keys) - 1)]
        action = fdp.ConsumeIntInRange(0, 7)
        if action == 0:  # remove it
            del value[k]
        elif action == 1 and isinstance(value, dict):  # a key beside it
            value[fdp.PickValueInList(KEYS)] = hostile_json(fdp)
        else:
            value[k] = edit_json(value[k], fdp)
        return value
    return hostile_json(fdp)
