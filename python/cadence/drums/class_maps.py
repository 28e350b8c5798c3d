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


class _RepeatedKey(ValueError):
    pass


def _object_without_repeats(pairs: list) -> dict:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _RepeatedKey(next(k for i, k in enumerate(keys) if k in keys[:i]))
    return dict(pairs)


def load_class_map(spec: str) -> ClassMap:
    """A built-in scheme name, or the path of a JSON object ``{"kick": [36], "snare": [38, 40]}``
    (classes in file order). Pitches must be 0..127 and belong to one class only."""
    if spec in BUILTIN:
        return ClassMap(spec, [(n, list(p)) for n, p in _core.drums_class_map(spec)])
    path = Path(spec)
    if not path.is_file():
        raise ValueError(f"unknown mapping {spec!r}: use one of {', '.join(BUILTIN)} or a JSON file")
    # Every way a file can be wrong ends in a ValueError that names it (fuzz/mapping_fuzz.py):
    # before, bytes that are not UTF-8, nesting deep enough for a RecursionError, a 5,000-digit
    # number, a pitch beyond C's int (TypeError from the binding) or a lone surrogate in a name
    # escaped as other exceptions or without the file's name, and a repeated class name was
    # silently merged (the last one won).
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_object_without_repeats)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}); a mapping file is JSON") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from None
    except _RepeatedKey as e:
        raise ValueError(f"{path}: class {e.args[0]!r} appears twice; merge its pitches into one list") from None
    except (ValueError, RecursionError) as e:  # e.g. a number of over 4,300 digits, nesting too deep
        raise ValueError(f"{path}: not a usable JSON mapping: {e}") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f'{path}: expected a JSON object of class name -> list of pitches, e.g. {{"kick": [36]}}')
    classes = []
    for name, pitches in data.items():
        if not isinstance(pitches, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in pitches):
            raise ValueError(f"{path}: class {name!r} must map to a list of integer MIDI pitches")
        bad = next((p for p in pitches if not 0 <= p <= 127), None)
        if bad is not None:
            raise ValueError(f"{path}: class {name!r} lists pitch {bad}, outside 0..127")
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: class name {name!r} is not valid Unicode (a lone surrogate)") from None
        classes.append((name, pitches))
    checked = _core.drums_check_class_map(path.stem, classes)
    return ClassMap(path.stem, [(n, list(p)) for n, p in checked])
