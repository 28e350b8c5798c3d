"""atheris target: the gait ranges-YAML loader (cadence.gait.validation.load_ranges).

Any bytes, written as a ranges file, must give either valid Ranges (phases in 0..100, the
checked point inside the 150-point cycle, min <= max where both are set) or a ValueError whose
message names the file - never another exception (YAML syntax, deep nesting, wrong shapes,
strings or huge numbers as bounds). Run by `make fuzz`; alone:
``.venv/bin/python fuzz/ranges_fuzz.py -max_total_time=60 DIR``.
"""

import math
import os
import sys
import tempfile

import atheris

# yaml is pure Python here: instrumenting it lets the fuzzer learn YAML's syntax by coverage.
with atheris.instrument_imports(include=["yaml"]):
    import yaml  # noqa: F401  (instrumented before validation imports it)

from cadence.gait import validation
from cadence.gait.validation import load_ranges

# The package is an editable install behind scikit-build-core's import hook, which
# atheris.instrument_imports() cannot see through: instrument the loader's functions directly.
for _f in (validation.load_ranges, validation._bound, validation._RangesLoader.construct_mapping):
    atheris.instrument_func(_f)

# One scratch file, rewritten for every input (a fixed place, so runs leave no litter behind).
_TMP = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_DIR = os.path.join(_TMP, f"cadence_ranges_fuzz_{os.getuid()}")
os.makedirs(_DIR, exist_ok=True)
_PATH = os.path.join(_DIR, "ranges.yaml")


def test_one_input(data: bytes) -> None:
    with open(_PATH, "wb") as f:
        f.write(data)
    try:
        ranges = load_ranges(_PATH)
    except ValueError as e:
        if not str(e).startswith(_PATH + ": "):
            raise AssertionError(f"a ValueError that does not name the file: {str(e)!r}") from e
        return
    assert ranges.source == _PATH
    for task, checks in ranges.tasks.items():
        assert isinstance(task, str)
        for var, pct, point, lo, hi in checks:
            assert isinstance(var, str) and 0 <= pct <= 100 and 0 <= point <= 149, (var, pct, point)
            assert isinstance(lo, float) and isinstance(hi, float)
            assert math.isnan(lo) or math.isnan(hi) or lo <= hi, (lo, hi)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
