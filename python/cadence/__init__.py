"""Cadence: fast, trustworthy preparation and analysis of event-segmented time series.

The heavy lifting lives in a C++20 engine (``cadence._core``); this package is its Python face.
"""

__version__ = "0.1.0"
