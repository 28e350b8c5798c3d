"""Suprathreshold clusters as spm1d shows them, made from the engine's cluster rows
(``_core.SPM_CLUSTER_COLUMNS``: x0, x1, extent, height, sign, metric, p)."""

from __future__ import annotations

import numpy as np

from ... import _core

_COLUMNS = {name: i for i, name in enumerate(_core.SPM_CLUSTER_COLUMNS)}


class Cluster:
    """One cluster: ``endpoints`` (node units 0..Q-1, interpolated to the threshold except at the
    curve's ends), ``extent`` (x1 - x0, at least 1), ``h`` (its lowest height above the
    threshold, in the cluster's sign), ``csign`` (+1 above, -1 below), ``P``; parametric ones have
    ``extentR`` (extent in resels), nonparametric ones ``metric_value`` (the integral above the
    threshold), ``nPerm`` and ``nPermUnique``."""

    def __init__(self, row: np.ndarray, threshold: float, *, fwhm: float | None = None,
                 n_perm: int | None = None, n_perm_unique: int | None = None) -> None:
        self.endpoints = (float(row[_COLUMNS["x0"]]), float(row[_COLUMNS["x1"]]))
        self.extent = float(row[_COLUMNS["extent"]])
        self.h = float(row[_COLUMNS["height"]])
        self.csign = int(row[_COLUMNS["sign"]])
        self.threshold = self.csign * float(threshold)
        self.P = float(row[_COLUMNS["p"]])
        self.isparam = fwhm is not None
        self.isinterpolated = True
        self.iswrapped = False
        if self.isparam:
            self.extentR = self.extent / fwhm
        else:
            self.metric_value = float(row[_COLUMNS["metric"]])
            self.metric_label = "ClusterIntegral"
            self.nPerm = n_perm
            self.nPermUnique = n_perm_unique

    @property
    def p(self) -> float:
        return self.P

    def __repr__(self) -> str:
        x0, x1 = self.endpoints
        kind = "Cluster" if self.isparam else "Cluster (NonParam)"
        return (f"{kind}(endpoints=({x0:.3f}, {x1:.3f}), extent={self.extent:.3f}, csign={self.csign:+d}, "
                f"P={self.P:.5f})")


def clusters_of(rows: np.ndarray, threshold: float, **kw) -> list[Cluster]:
    return [Cluster(r, threshold, **kw) for r in rows]
