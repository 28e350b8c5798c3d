"""Per-kit pitch maps for Slakh2100's drum stems (``drums prepare --slakh-kit-map adtof``).

Slakh renders each drum stem with a Kontakt kit, named by the stem's ``plugin_name`` in
metadata.yaml. Off by default: the stems' MIDI notes are used as the General MIDI pitches they
mostly are. But a kit's keys are not all GM: ``funk_kit.nkm`` plays its ride bell on key 54 (GM:
tambourine) and its hi tom on 52-53 (GM: china, ride bell), ``street_knowledge_kit.nkm`` a shaker on
41 (GM: low floor tom), and keys 60-71 of the Kontakt Factory kits play patterns (a kick and a
hi-hat at once). Turn the map on when the labels must name what the audio sounds like, as
ADTOF trains on Slakh.

Source: ADTOF (Zehren et al.), https://github.com/MZehren/ADTOF, file
``adtof/ressources/instrumentsMapping.py``, dict ``SLAKH2100_MIDI`` (added in commit
8426c9ae449484283d03eb91d30db4ce38e158ee, "Adding Slakh mapping to GM", 2023-06-20; unchanged
at b3968fb332f69b65ee07c089fc62f436503755db, 2025-09-18). 8 kits: funk_kit, pop_kit,
street_knowledge_kit (Kontakt Factory), garage_kit_lite, session_kit_full, stadium_kit_full
(NI's default mapping PDFs), ar_modern_sparkle_kit_full, ar_modern_white_kit_full (Abbey Road
Modern Drummer manual). A key maps to one GM pitch or a tuple of them (a pattern key: each
pitch becomes a hit). How ADTOF applies it (``adtof/model/dataLoader.py`` ``getSlakh2100``,
``adtof/model/track.py`` ``readLabels``, ``adtof/config.py`` ``remapPitches``): the table of the
track's drum ``plugin_name`` (a plugin it lacks raises KeyError there), then MIDI_REDUCED_5;
``removeIfClassUnknown=False``, so a key the kit's table lacks is kept as it is; tuples are
flattened into one note each; notes equal in time and pitch afterwards are kept once.

Here: a key the table lacks is kept as it is (as ADTOF); a stem whose plugin is not in the table
keeps its notes as GM and is counted in report.json (``slakh_kit_map.unknown_plugins``); each
drum stem gets its own kit's table (ADTOF takes one plugin per track). A pattern key's pitches
are each a hit of the onset; a pitch that two keys of one onset reach is listed twice in the
record's ``pitches`` (its class is set once, as ADTOF's deduplication gives).

The tables below are written ``KEY`` (sounds as itself), ``KEY:PITCH``, ``KEY:P1+P2`` (a
pattern) or ``FIRST-LAST:PITCH`` (consecutive keys alike).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter

#: --slakh-kit-map values: the tables each names. ``None`` / off: notes as read.
SCHEMES = ("adtof",)
SOURCE = ("https://github.com/MZehren/ADTOF adtof/ressources/instrumentsMapping.py SLAKH2100_MIDI "
          "@ 8426c9ae449484283d03eb91d30db4ce38e158ee")

_ADTOF = {
    "funk_kit.nkm": (
        "24-35:39 36 37 38 39:38 40 41 42 43 44 45 46 47 48 49 50 51 52-53:50 54:53 55 56 57 58:55 59 "
        "60:36+42 61:36+44 62:36+46 63:36 64:36+42 65:36+41 66:36+44 67:36+42 68:36+42+47 69:36+42+43 "
        "70:36+42 71:36+42"
    ),
    "pop_kit.nkm": (
        "35 36 37 38 39:38 40 41 42 43 44 45 46 47 48 49 50 51 52-53:50 54:53 55 56 57 58:55 59 60:36+42 "
        "61:36+44 62-63:36 64:36+42 65:42 66:36+44 67:36+42 68:36+42+47 69:36+42+43 70:36+42 71:36"
    ),
    "street_knowledge_kit.nkm": (
        "36 37:38 38 39 40 41:82 42 43:34 44:42 46:42 47-48:36 49:80 50:40 51:81 52:39 53:54 54:82 55:34 "
        "56:82 57 58:69 59:36 60:36+42 61:36+44 62-63:36 64:36+42 65:36+42 66-70:36"
    ),
    "garage_kit_lite.nkm": (
        "22:57 23:51 24:57 25:52 26:55 27-30:56 31-32:54 33-34:39 35:31 36 37 38 39:38 40 41 42 43 44 45 "
        "46 47 48-50:57 51 52:51 53 54-56:49 57-58:52 59:55 60:36 61:37 62-64:38 65:43 66:42 67:43 68:42 "
        "69:45 70:46 71:41 72-75:37 76-80:46 81:38 83-84:38 85:42 86:38 87:42 88-89:43 90:42 91:43 92:42 "
        "93:43 94:42 95-96:45 97:42 98:41 100:41"
    ),
    "session_kit_full.nkm": (
        "22:57 23:51 24:57 25:52 26:55 27-28:77 29-30:76 31-32:54 33-34:39 35:31 36 37 38 39:38 40 41 42 "
        "43 44 45 46 47 48-50:57 51 52:51 53 54-56:49 57-58:52 59:55 60:36 61:37 62-64:38 65:43 66:42 "
        "67:43 68:42 69:45 70:46 71:41 72-75:37 76-80:46 81:38 83-84:38 85:42 86:38 87:42 88-89:43 90:42 "
        "91:43 92:42 93:43 94:42 95-96:45 97:42 98:41 100:41"
    ),
    "stadium_kit_full.nkm": (
        "22:57 23:51 24:57 25:52 26:55 27-30:56 31-32:54 33-34:39 35:31 36 37 38 39:38 40 41 42 43 44 45 "
        "46 47 48-50:57 51 52:51 53 54-56:49 57-58:52 59:55 60:36 61:37 62-64:38 65:43 66:42 67:43 68:42 "
        "69:45 70:46 71:41 72-75:37 76-80:46 81:38 83-84:38 85:42 86:38 87:42 88-89:43 90:42 91:43 92:42 "
        "93:43 94:42 95-96:45 97:42 98:41 100:41"
    ),
    "ar_modern_sparkle_kit_full.nkm": (
        "16-17:56 19:56 21:56 22:57 23:51 24:49 25:52 26-29:55 31-32:54 33-34:39 35:31 36 37 38 39-40:38 "
        "41 42 43 44 45 46 47 48-50:57 51 52:51 53 54-56:49 57-59:52 60:36 61:37 62-64:38 65:41 66:42 "
        "67:43 68:42 69:45 70:44 71:47 72-75:37 76-80:46 81:38 82:36 83-84:38 85:42 86:38 87:42 88-89:41 "
        "90:42 91:43 92:42 93:43 94:42 95-96:45 97:42 98:47 100:47 101-103:38"
    ),
    "ar_modern_white_kit_full.nkm": (
        "17:55 19:55 21:55 22:57 23:51 24:49 25:52 26:55 27-30:56 31-32:52 33-34:39 35:31 36 37 38 "
        "39-40:38 41 42 43 44 45 46 47 48-50:57 51 52:51 53 54-56:49 57-59:52 60:36 61:37 62-64:38 65:41 "
        "66:42 67:43 68:42 69:45 70:44 71:47 72-75:37 76-80:46 81:38 82:36 83-84:38 85:42 86:38 87:42 "
        "88-89:41 90:42 91:43 92:42 93:43 94:42 95-96:45 97:42 98:47 100:47"
    ),
}


def _parse(spec: str) -> dict[int, tuple[int, ...]]:
    table: dict[int, tuple[int, ...]] = {}
    for token in spec.split():
        keys, _, pitches = token.partition(":")
        first, _, last = keys.partition("-")
        for key in range(int(first), int(last or first) + 1):
            table[key] = tuple(int(p) for p in pitches.split("+")) if pitches else (key,)
    return table


def tables(scheme: str) -> dict[str, dict[int, tuple[int, ...]]]:
    """``{plugin_name: {key: (GM pitches...)}}`` of ``scheme``; ValueError naming the choices."""
    if scheme not in SCHEMES:
        raise ValueError(f"--slakh-kit-map {scheme!r}: choose {', '.join(SCHEMES)}")
    return {kit: _parse(spec) for kit, spec in _ADTOF.items()}


@functools.cache
def _engine_map(scheme: str, plugin: str) -> tuple:
    table = tables(scheme).get(plugin)
    return () if table is None else tuple(table.get(key, (key,)) for key in range(128))


def config(scheme: str) -> dict:
    """What the journal's config (and the manifest) record: the scheme, its source and tables."""
    return {"scheme": scheme, "source": SOURCE,
            "kits": {kit: {str(k): list(v) for k, v in sorted(t.items())} for kit, t in tables(scheme).items()}}


def engine_maps(plugins: list[str], scheme: str) -> tuple[tuple, list[str]]:
    """The engine's kit maps for stems rendered with ``plugins`` (one per annotation file: 128
    lists each, or ``()`` for a plugin the scheme lacks), and the plugins it lacks."""
    maps = tuple(_engine_map(scheme, plugin) for plugin in plugins)
    return maps, [plugin for plugin, m in zip(plugins, maps) if not m]


def apply(pairs: list, scheme: str) -> tuple[list, dict[str, int]]:
    """Slakh ``pairs`` with their kit maps set (each drum stem's ``plugin_name`` from the pair's
    ``kit_name``, which datasets/slakh.py joins with commas in stem order), and the drum stems
    per plugin the scheme lacks (their notes stay as read), for the report."""
    out, unknown = [], Counter()
    for p in pairs:
        plugins = p.meta.get("kit_name", "").split(",")
        if len(plugins) != len(p.annotation_paths):  # not a Slakh listing's pair: nothing to key on
            plugins = [""] * len(p.annotation_paths)
        maps, lacking = engine_maps(plugins, scheme)
        unknown.update(lacking)
        out.append(dataclasses.replace(p, kit_maps=maps) if any(maps) else p)
    return out, dict(sorted(unknown.items()))
