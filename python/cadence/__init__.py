"""Cadence: fast, trustworthy preparation and analysis of event-segmented time series.

The heavy lifting lives in a C++20 engine (``cadence._core``); this package is its Python face.
"""

from __future__ import annotations

from pathlib import Path as _Path

__version__ = "0.1.0"

# The engine is loaded here, once, so that a damaged or foreign install fails at `import cadence`
# with one message saying what to do, rather than later with a bare loader error (tens of ms).
try:
    from . import _core
except ImportError as _e:
    _found = sorted(p.name for p in _Path(__file__).parent.glob("_core*.so"))
    raise ImportError(
        f"cadence's native engine (cadence._core in {_Path(__file__).parent}, files: "
        f"{', '.join(_found) or 'none'}) failed to load: {_e if _found else 'the file is missing'}. "
        "The installation is damaged or was "
        "built for another Python or platform; reinstall it: pip install --force-reinstall "
        "--no-deps cadence (or the wheel you installed from)") from None


def build_info() -> dict[str, str]:
    """What this build is made of: cadence's version, the native libraries it links with their
    versions and origin (``"vendored"`` in wheels and sdists, ``"system"`` in dev builds), the
    compiler and the SIMD paths taken on this CPU. Quote it in bug reports."""
    return {"cadence": __version__, **dict(_core.build_info())}
