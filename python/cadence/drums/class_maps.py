"""Class mappings: the built-in research schemes, or a user's JSON file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .. import _core

BUILTIN = ("gmd9", "magenta8", "magenta3", "adtof5", "raw")


@dataclass(frozen=True)
class ClassMap:
    name: str
    classes: list  # [(class name, [pitches])], in class order

    @property
    def class_names(self) -> list[str]:
        return [c for c, _ in self.classes]


def load_class_map(spec: str) -> ClassMap:
    """A built-in scheme name, or the path of a JSON object ``{"kick": [36], "snare": [38, 40]}``
    (classes in file order). Pitches must be 0..127 and belong to one class only."""
    if spec in BUILTIN:
        return ClassMap(spec, [(n, list(p)) for n, p in _core.drums_class_map(spec)])
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"unknown mapping {spec!r}: use one of {', '.join(BUILTIN)} or a JSON file")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{path}: expected a JSON object of class name -> list of pitches, e.g. {{"kick": [36]}}')
    classes = []
    for name, pitches in data.items():
        if not isinstance(pitches, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pitches):
            raise ValueError(f"{path}: class {name!r} must map to a list of integer MIDI pitches")
        classes.append((str(name), pitches))
    checked = _core.drums_check_class_map(path.stem, classes)
    return ClassMap(path.stem, [(n, list(p)) for n, p in checked])
