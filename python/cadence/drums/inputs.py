"""Which inputs to prepare or read: the selection options (``--split``, ``--kits``,
``--drummers``, ``--sample-fraction``, ``--limit``) on a corpus's pairs (datasets/) and the same
names on a prepared directory's files (:meth:`DrumDataset.filter`), and the message that says
why nothing is left."""

from __future__ import annotations

import hashlib

from .corpus import InputReject, PairInput

SPLITS = ("train", "validation", "test")


def _keep_fraction(pair: PairInput, fraction: float, seed: int) -> bool:
    # A hash of (seed, performance id): the same pairs every run, and all kits of a performance
    # kept or dropped together, so a sample never splits a performance.
    key = f"{seed}:{pair.meta.get('source_id') or pair.pair_id}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return h / 2**64 < fraction


def select(pairs: list[PairInput], *, splits=None, kits=None, drummers=None,
           sample_fraction: float | None = None, seed: int = 0, limit: int | None = None) -> list[PairInput]:
    """Apply the command line's filters, in a deterministic order."""
    if limit is not None and limit < 0:
        raise ValueError(f"--limit must be >= 0, got {limit}")
    def wanted(values, v):
        return not values or v in values

    out = [p for p in pairs
           if wanted(splits, p.meta.get("split")) and wanted(drummers, p.meta.get("drummer"))
           and (not kits or p.meta.get("kit_name") in kits or p.pair_id.rsplit("_", 1)[-1] in kits)]
    if sample_fraction is not None:
        if not 0 < sample_fraction <= 1:
            raise ValueError(f"--sample-fraction must be in (0, 1], got {sample_fraction}")
        out = [p for p in out if _keep_fraction(p, sample_fraction, seed)]
    return out[:limit] if limit is not None else out


def view_mask(files: dict, *, split=None, kits=None, drummers=None, pair_ids=None, dataset=None) -> "np.ndarray":
    """Per file of a prepared directory (``files``: its ``split``, ``kit``, ``drummer`` and
    ``pair_id`` columns), whether :meth:`DrumDataset.filter` keeps it: the same names and
    matching as :func:`select` (``--split``, ``--kits`` by name or number, ``--drummers``). A value
    no file has raises ValueError listing the values present, as the command line does: a typo
    must not give an empty view silently."""
    import numpy as np

    n = len(files["pair_id"])
    keep = np.ones(n, bool)
    numbers = [str(p).rsplit("_", 1)[-1] for p in files["pair_id"]]  # E-GMD's kit number: the "_N" suffix
    for name, column, wanted in (("split", "split", split), ("kits", "kit", kits),
                                 ("drummers", "drummer", drummers), ("pair_ids", "pair_id", pair_ids),
                                 ("dataset", "dataset", dataset)):
        if wanted is None:
            continue
        wanted = {str(w) for w in ([wanted] if isinstance(wanted, (str, int)) else wanted)}
        values = [str(v) for v in files[column]]
        present = set(values) | (set(numbers) if column == "kit" else set())
        unknown = sorted(wanted - present)
        if unknown:
            also = f" (or kit numbers {_some(sorted(set(numbers), key=_number_order))})" if column == "kit" else ""
            raise ValueError(f"{name}: {', '.join(map(repr, unknown))} not in this dataset; present: "
                             f"{_some(sorted(set(values)))}{also}")
        keep &= np.fromiter((v in wanted or (column == "kit" and k in wanted) for v, k in zip(values, numbers)),
                            bool, n)
    return keep


def _number_order(text: str) -> tuple:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _some(values: list[str], most: int = 12) -> str:
    return (", ".join(values[:most]) or "none") + (" ..." if len(values) > most else "")


def explain_empty(found: str, pairs: list[PairInput], rejects: list[InputReject], *,
                  splits=None, kits=None, drummers=None, sample_fraction=None, seed=0, limit=None) -> str:
    """Why nothing is left to prepare: what was found (`found`, the dataset reader's sentence),
    then what each filter left."""
    steps = [found]
    if pairs:
        left = pairs
        for option, values, key in (("--split", splits, "split"), ("--drummers", drummers, "drummer"),
                                    ("--kits", kits, "kit_name")):
            if not values:
                continue
            if key == "kit_name":
                kept = [p for p in left if p.meta.get(key) in values or p.pair_id.rsplit("_", 1)[-1] in values]
            else:
                kept = [p for p in left if p.meta.get(key) in values]
            present = sorted({str(p.meta.get(key)) for p in left})
            steps.append(f"{option} {' '.join(map(str, values))} kept {len(kept)} of {len(left)} "
                         f"(present: {', '.join(present[:12]) or 'none'}{' ...' if len(present) > 12 else ''})")
            left = kept
        if sample_fraction is not None and left:
            kept = [p for p in left if _keep_fraction(p, sample_fraction, seed)]
            steps.append(f"--sample-fraction {sample_fraction} --seed {seed} kept {len(kept)} of {len(left)}")
            left = kept
        if limit is not None and left:
            steps.append(f"--limit {limit} kept {min(limit, len(left))} of {len(left)}")
    elif rejects:
        steps.append(f"first reject: {rejects[0].message}")
    return "nothing to prepare: " + "; ".join(steps) + ". Check ROOT and the selection options."
