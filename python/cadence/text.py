"""Counts in the sentences the commands print: "1 file", "2 files", "missing_midi 12, bad_audio 3".

One place, so that no report prints a Python repr (``{'39': 6}``) or "1 drummers".
"""

from __future__ import annotations

from collections.abc import Mapping


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and ``noun``, the plural when ``n`` is not 1 (``many``, or ``noun + "s"``)."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def counts(by_key: Mapping, *, key: str = "{}", none: str = "none") -> str:
    """``"a 3, b 1"`` for ``{"a": 3, "b": 1}``, in the mapping's order; ``key`` formats each key
    (``"pitch {}"``); ``none`` when the mapping is empty."""
    return ", ".join(f"{key.format(k)} {v:,}" for k, v in by_key.items()) or none
