"""Standard MIDI Files through the engine's own parser (formats 0 and 1).

Every tempo event of every track is honoured; notes pair as in pretty_midi, so onsets equal
pretty_midi's (within 1 µs) whenever pretty_midi reads the same tempo map. What pretty_midi drops
silently (notes never switched off) is kept here and reported in ``warnings``.

Example
-------
>>> m = read("drummer1/session1/1_funk-groove1_138_beat_4-4_1.midi")  # doctest: +SKIP
>>> m.onset_s[m.pitch == 36]  # kick onsets, seconds                   # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import _core

__all__ = ["MidiError", "MidiNotes", "parse", "read"]

MidiError = _core.MidiError
"""Raised for unreadable or malformed files (a ``ValueError``); the message names the file, the
byte offset, the track, and what is wrong."""


@dataclass(frozen=True, eq=False)
class MidiNotes:
    """The notes, tempo map and control changes of one MIDI file. Arrays are read-only.

    Attributes
    ----------
    name : str
        The path read (or the name given to :func:`parse`).
    format : int
        SMF format, 0 or 1.
    n_tracks : int
        Number of MTrk chunks.
    ppq : int
        Ticks per quarter note; 0 when the file uses an SMPTE division.
    smpte_fps : float
        Frames per second of an SMPTE division (29.97 for its drop-frame code), else 0.
    ticks_per_frame : int
        Ticks per SMPTE frame, else 0.
    end_tick, end_s : int, float
        Tick and time in seconds of the last event of any track (end-of-track included).
    onset_s, offset_s : ndarray of float64, shape (n_notes,)
        Note start and end, seconds from the start of the file. Sorted by onset, then pitch.
    onset_tick, offset_tick : ndarray of int64
        The same in ticks.
    pitch, velocity, channel : ndarray of uint8
        MIDI note number, note-on velocity (1..127), channel 0..15 (9 is GM percussion).
    track : ndarray of uint16
        Index of the MTrk chunk holding the note.
    tempo_tick, tempo_s : ndarray of int64, float64
        Where each tempo of the effective tempo map starts: first at tick 0 (the default
        500,000 µs per beat when a PPQ file sets none there), then one entry per change, the
        last event at a tick winning. With an SMPTE division they are listed but unused.
    tempo_us_per_beat : ndarray of uint32
        Microseconds per quarter note from that point on.
    control_s, control_tick : ndarray of float64, int64
        Time of each control change (seconds, ticks), sorted by time.
    control_channel, control_number, control_value, control_track : ndarray
        Channel, controller number (4 = hi-hat pedal), value 0..127, track.
    warnings : tuple of str
        What was repaired or skipped, per track (e.g. notes still sounding at the end of a track,
        closed there).
    """

    name: str
    format: int
    n_tracks: int
    ppq: int
    smpte_fps: float
    ticks_per_frame: int
    end_tick: int
    end_s: float
    onset_s: np.ndarray
    offset_s: np.ndarray
    onset_tick: np.ndarray
    offset_tick: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    channel: np.ndarray
    track: np.ndarray
    tempo_tick: np.ndarray
    tempo_s: np.ndarray
    tempo_us_per_beat: np.ndarray
    control_s: np.ndarray
    control_tick: np.ndarray
    control_channel: np.ndarray
    control_number: np.ndarray
    control_value: np.ndarray
    control_track: np.ndarray
    warnings: tuple[str, ...]

    def __len__(self) -> int:
        """Number of notes."""
        return int(self.onset_s.size)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _from_dict(name: str, d: dict) -> MidiNotes:
    notes, tempos, controls = d["notes"], d["tempos"], d["controls"]
    return MidiNotes(
        name=name, format=d["format"], n_tracks=d["n_tracks"], ppq=d["ppq"],
        smpte_fps=d["smpte_fps"], ticks_per_frame=d["ticks_per_frame"], end_tick=d["end_tick"],
        end_s=d["end_s"],
        **{key: _frozen(notes[key]) for key in ("onset_s", "offset_s", "onset_tick",
                                                "offset_tick", "pitch", "velocity", "channel",
                                                "track")},
        tempo_tick=_frozen(tempos["tick"]), tempo_s=_frozen(tempos["time_s"]),
        tempo_us_per_beat=_frozen(tempos["us_per_beat"]),
        control_s=_frozen(controls["time_s"]), control_tick=_frozen(controls["tick"]),
        control_channel=_frozen(controls["channel"]),
        control_number=_frozen(controls["control"]), control_value=_frozen(controls["value"]),
        control_track=_frozen(controls["track"]),
        warnings=tuple(d["warnings"]))


def read(path: str | os.PathLike) -> MidiNotes:
    """Parse a Standard MIDI File (format 0 or 1, any PPQ or SMPTE division).

    The GIL is released while parsing, so threads can read files in parallel.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.mid``/``.midi`` file.

    Returns
    -------
    MidiNotes

    Raises
    ------
    MidiError
        If the file cannot be read, is not an SMF, is format 2, or is malformed (truncated,
        zero PPQ or tempo, chunk lengths past the end...). The message names the file, the byte
        offset and the track.
    """
    path = os.fspath(path)
    return _from_dict(path, _core.midi_read(path))


def parse(data: bytes, name: str = "<bytes>") -> MidiNotes:
    """Parse an SMF already in memory; ``name`` only appears in error messages.

    See :func:`read` for what is returned and raised.
    """
    return _from_dict(name, _core.midi_parse(bytes(data), name))
