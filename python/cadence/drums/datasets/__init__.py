"""Every drum dataset the field trains on, as its authors distribute it: how to recognise it from
the files of ROOT (a :class:`~cadence.drums.corpus.Corpus`: directory, zip or URI) and which
pairs (annotation file(s) + audio file(s)) it holds.

One module per dataset, each with ``NAME``, ``LOOKS_FOR`` (what :func:`detect` looks for, said
when nothing matches), ``detect(corpus) -> bool`` and ``list_pairs(corpus, choice) -> Listing``.
Labels reach General MIDI pitches in the engine's annotation readers, then the class map
(``--mapping``), one vocabulary path for every dataset.
"""

from __future__ import annotations

import shlex

from ..corpus import Corpus
from .listing import Listing
from . import egmd, enst, gmd, idmt, mdb, pairs, rbma13, slakh, stemgmd, tmidt

#: ``--dataset`` values, in the order auto-detection tries them (``pairs`` last: any .mid files
#: with their audio).
MODULES = {m.NAME: m for m in (egmd, gmd, stemgmd, slakh, enst, mdb, idmt, rbma13, tmidt, pairs)}
NAMES = tuple(MODULES)


class NoDataset(ValueError):
    """ROOT has none of the layouts cadence reads."""


def detect(corpus: Corpus) -> str:
    """The one dataset whose layout ROOT has (``pairs`` when only MIDI/audio files match).

    Raises ValueError when two layouts match (name one with ``--dataset``) or none does (the
    message lists what was looked for)."""
    found = [name for name, m in MODULES.items() if name != "pairs" and m.detect(corpus)]
    if len(found) > 1:
        raise ValueError(f"{corpus.name} holds the layouts of several datasets ({', '.join(found)}); prepare "
                         f"each dataset's own top folder, or choose one with --dataset {found[0]}")
    if found:
        return found[0]
    if pairs.detect(corpus):
        return "pairs"
    inside = _one_folder_with_a_dataset(corpus)
    if inside:
        raise NoDataset(f"nothing to prepare: {corpus.name} holds one folder, {inside[0]}, which is {inside[1]}: "
                        f"give {shlex.quote(corpus.where(inside[0]))} as ROOT")
    looked = "; ".join(f"{m.NAME}: {m.LOOKS_FOR}" for m in MODULES.values())
    raise NoDataset(f"nothing to prepare: {corpus.name} holds no drum dataset (looked for {looked}); "
                    f"{pairs.counted(corpus)}. Give the dataset's own top folder as ROOT (or its zip), or name "
                    f"the dataset with --dataset")


def _one_folder_with_a_dataset(corpus: Corpus) -> tuple[str, str] | None:
    """(folder, dataset title) when ROOT holds nothing but one folder that is a dataset's root
    (the parent of ``MDB Drums/`` given instead of it)."""
    tops = {f.split("/", 1)[0] for f in corpus.files()}
    if len(tops) != 1 or not all("/" in f for f in corpus.files()) or corpus.kind != "dir":
        return None
    top = tops.pop()
    try:
        inner = Corpus(corpus.where(top))
        name = detect(inner)
    except (OSError, ValueError):
        return None
    return (top, MODULES[name].TITLE) if name != "pairs" else None


def list_pairs(corpus: Corpus, dataset: str = "auto", *, csv: str | None = None,
               audio: str | None = None) -> Listing:
    """The pairs of `corpus` read as `dataset` (``auto``: :func:`detect`). ``csv`` names E-GMD's
    or GMD's CSV when several are there; ``audio`` picks the recording where a dataset has
    several (each module's ``AUDIO`` choices, its first the default)."""
    if dataset != "auto" and dataset not in MODULES:
        raise ValueError(f"--dataset {dataset!r}: choose auto or one of {', '.join(NAMES)}")
    if dataset == "auto":
        if csv is not None:  # a CSV named: E-GMD's (or GMD's), as before datasets were told apart
            dataset = "gmd" if gmd.is_gmd_csv(corpus, csv) else "egmd"
        else:
            dataset = detect(corpus)
    module = MODULES[dataset]
    choices = getattr(module, "AUDIO", None)
    if audio is not None and not choices:
        raise ValueError(f"--audio {audio!r}: {dataset} has one recording per pair; leave --audio out")
    if audio is not None and audio not in choices:
        raise ValueError(f"--audio {audio!r}: {dataset}'s recordings are {', '.join(choices)} "
                         f"(default {choices[0]})")
    listing = module.list_pairs(corpus, csv=csv, audio=audio or (choices[0] if choices else None))
    listing.dataset = dataset
    return listing
