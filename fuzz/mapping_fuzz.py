"""atheris target: the user class-mapping loader (cadence.drums.class_maps.load_class_map).

Any bytes, written as a mapping file, must give either a valid ClassMap (unique names, pitches
0..127 each in one class, exactly the file's classes in file order) or a ValueError whose message
names the file (or the mapping, for the checks done in C++) - never another exception.
Run by `make fuzz`; alone: ``.venv/bin/python fuzz/mapping_fuzz.py -max_total_time=60 DIR``.
"""

import json
import os
import sys
import tempfile

import atheris

from cadence.drums import class_maps
from cadence.drums.class_maps import load_class_map

# The package is an editable install behind scikit-build-core's import hook, which
# atheris.instrument_imports() cannot see through: instrument the loader's functions directly.
for _f in (class_maps.load_class_map, class_maps._object_without_repeats):
    atheris.instrument_func(_f)

# One scratch file, rewritten for every input (a fixed place, so runs leave no litter behind).
_TMP = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_DIR = os.path.join(_TMP, f"cadence_mapping_fuzz_{os.getuid()}")
os.makedirs(_DIR, exist_ok=True)
_PATH = os.path.join(_DIR, "user_map.json")


def _structured(data: bytes) -> bytes:
    """A JSON object of class name -> values, written by hand so that keys can repeat; values
    mostly pitches, sometimes anything JSON holds (big, negative, float, bool, null, nested)."""
    fdp = atheris.FuzzedDataProvider(data)
    items = []
    for _ in range(fdp.ConsumeIntInRange(0, 6)):
        name = fdp.ConsumeUnicode(6) if fdp.ConsumeBool() else f"c{fdp.ConsumeIntInRange(0, 6)}"
        values = []
        for _ in range(fdp.ConsumeIntInRange(0, 6)):
            kind = fdp.ConsumeIntInRange(0, 9)
            values.append(fdp.ConsumeIntInRange(-2, 130) if kind < 5 else
                          fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 16)) if kind == 5 else
                          [None, True, 36.0, "36", [36]][kind - 5] if kind < 9 else
                          fdp.ConsumeRegularFloat())
        items.append(json.dumps(name) + ": " + json.dumps(values))
    text = "{" + ", ".join(items) + "}"
    return (text if fdp.ConsumeIntInRange(0, 15) else "[" + text + "]").encode("utf-8", "surrogatepass")


def test_one_input(data: bytes) -> None:
    # The first byte picks raw bytes (the JSON parser's error paths) or a structured JSON object
    # (the mapping checks behind a successful parse, which raw mutation rarely reaches).
    if data[:1] and data[0] & 1:
        data = _structured(data[1:])
    with open(_PATH, "wb") as f:
        f.write(data)
    try:
        m = load_class_map(_PATH)
    except ValueError as e:
        msg = str(e)
        if _PATH not in msg and "class map 'user_map'" not in msg:
            raise AssertionError(f"a ValueError that does not name the file: {msg!r}") from e
        return
    assert m.name == "user_map"
    source = json.loads(data.decode("utf-8"))  # it loaded, so this is a JSON object
    assert [n for n, _ in m.classes] == list(source), (m.classes, source)
    pitches = [p for _, ps in m.classes for p in ps]
    assert all(type(p) is int and 0 <= p <= 127 for p in pitches), pitches
    assert len(set(pitches)) == len(pitches), pitches
    for name, ps in m.classes:
        assert sorted(ps) == sorted(source[name]), (name, ps, source[name])


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
