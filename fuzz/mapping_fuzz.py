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

with atheris.instrument_imports(include=["cadence.drums.class_maps"]):
    from cadence.drums.class_maps import load_class_map

# One scratch file, rewritten for every input (a fixed place, so runs leave no litter behind).
_DIR = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(), f"cadence_mapping_fuzz_{os.getuid()}")
os.makedirs(_DIR, exist_ok=True)
_PATH = os.path.join(_DIR, "user_map.json")


def test_one_input(data: bytes) -> None:
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
