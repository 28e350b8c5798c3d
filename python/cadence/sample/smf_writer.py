"""A small Standard MIDI File writer.

It exists so the sample generator and the tests can build MIDI byte-exactly (running status on or
off, format 0 or 1, any PPQ, odd tempos) without a third-party MIDI library at runtime. Events are
added at absolute ticks; delta times, variable-length quantities and running status are worked out
only when the file is encoded.

Example
-------
>>> meta, notes = Track("meta"), Track()
>>> meta.set_tempo(0, 500_000)
>>> notes.note_on(0, 9, 36, 100)
>>> notes.note_off(240, 9, 36)
>>> data = to_bytes([meta, notes], ppq=480, format=1)
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Sequence

from ..atomic import atomic_path

__all__ = ["Track", "encode_vlq", "to_bytes", "write_bytes_atomic", "write_smf"]

# Largest value a 4-byte variable-length quantity can hold (SMF 1.0, "Variable-Length Quantity").
MAX_VLQ = 0x0FFF_FFFF


def encode_vlq(value: int) -> bytes:
    """Encode ``value`` as an SMF variable-length quantity (7 bits a byte, big-endian).

    Parameters
    ----------
    value : int
        Non-negative integer up to ``0x0FFFFFFF``.

    Returns
    -------
    bytes
        One to four bytes; every byte but the last has its top bit set.
    """
    if not 0 <= value <= MAX_VLQ:
        raise ValueError(f"variable-length quantity out of range 0..{MAX_VLQ}: {value}")
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _check(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


@dataclass
class Track:
    """One MTrk chunk: events at absolute ticks, kept in insertion order within a tick.

    Parameters
    ----------
    name : str or None
        If given, a track-name meta event is written first, at tick 0.

    Notes
    -----
    Events sharing a tick are written in the order they were added, so callers control e.g. that a
    note-off precedes a note-on of the same pitch at the same tick. An end-of-track meta event is
    appended on encoding at ``end_tick`` (or the last event's tick when that is later).
    """

    name: str | None = None
    end_tick: int = 0
    # (tick, insertion index, status byte, data bytes); status 0xFF means a meta event whose data
    # starts with the meta type.
    _events: list[tuple[int, int, int, bytes]] = field(default_factory=list, repr=False)

    def _add(self, tick: int, status: int, data: bytes) -> None:
        _check("tick", tick, 0, MAX_VLQ)
        self._events.append((tick, len(self._events), status, data))

    def _meta(self, tick: int, meta_type: int, payload: bytes) -> None:
        self._add(tick, 0xFF, bytes([meta_type]) + encode_vlq(len(payload)) + payload)

    # --- channel messages ---------------------------------------------------------------------
    def note_on(self, tick: int, channel: int, note: int, velocity: int) -> None:
        """Note-on; ``velocity == 0`` is the conventional note-off that keeps running status."""
        self._add(tick, 0x90 | _check("channel", channel, 0, 15),
                  bytes([_check("note", note, 0, 127), _check("velocity", velocity, 0, 127)]))

    def note_off(self, tick: int, channel: int, note: int, velocity: int = 0,
                 *, as_note_on: bool = True) -> None:
        """Note-off, written by default as note-on velocity 0 (as E-GMD files do).

        Parameters
        ----------
        as_note_on : bool
            If False, write a true note-off (status 0x8n) with ``velocity`` as release velocity.
        """
        if as_note_on:
            self.note_on(tick, channel, note, 0)
            return
        self._add(tick, 0x80 | _check("channel", channel, 0, 15),
                  bytes([_check("note", note, 0, 127), _check("velocity", velocity, 0, 127)]))

    def control_change(self, tick: int, channel: int, control: int, value: int) -> None:
        """Control change (e.g. control 4, the hi-hat pedal position)."""
        self._add(tick, 0xB0 | _check("channel", channel, 0, 15),
                  bytes([_check("control", control, 0, 127), _check("value", value, 0, 127)]))

    def program_change(self, tick: int, channel: int, program: int) -> None:
        """Program change (on a drum channel this selects the kit)."""
        self._add(tick, 0xC0 | _check("channel", channel, 0, 15),
                  bytes([_check("program", program, 0, 127)]))

    # --- meta events --------------------------------------------------------------------------
    def set_tempo(self, tick: int, tempo_us_per_beat: int) -> None:
        """Tempo meta event (FF 51 03), in microseconds per quarter note (1..16,777,215)."""
        _check("tempo_us_per_beat", tempo_us_per_beat, 1, 0xFF_FFFF)
        self._meta(tick, 0x51, tempo_us_per_beat.to_bytes(3, "big"))

    def time_signature(self, tick: int, numerator: int, denominator: int,
                       clocks_per_click: int = 24, notated_32nds_per_beat: int = 8) -> None:
        """Time-signature meta event (FF 58 04); ``denominator`` is the written value, e.g. 8."""
        if denominator < 1 or denominator & (denominator - 1):
            raise ValueError(f"time-signature denominator must be a power of two, "
                             f"got {denominator}")
        self._meta(tick, 0x58, bytes([
            _check("numerator", numerator, 1, 255),
            denominator.bit_length() - 1,  # stored as a power of two
            _check("clocks_per_click", clocks_per_click, 0, 255),
            _check("notated_32nds_per_beat", notated_32nds_per_beat, 0, 255)]))

    def track_name(self, tick: int, name: str) -> None:
        """Track-name meta event (FF 03), text encoded as latin-1."""
        self._meta(tick, 0x03, name.encode("latin-1"))

    # --- encoding -----------------------------------------------------------------------------
    def encode(self, running_status: bool = True) -> bytes:
        """Return the whole MTrk chunk (header included).

        Parameters
        ----------
        running_status : bool
            Omit a channel message's status byte when it repeats the previous one. Meta events
            cancel running status (SMF 1.0), so the next channel message restates its status.
        """
        events = [(0, -1, 0xFF, b"\x03" + encode_vlq(len(n)) + n)
                  for n in ([self.name.encode("latin-1")] if self.name is not None else [])]
        events += sorted(self._events)
        last_tick = max([self.end_tick] + [e[0] for e in events])
        body = bytearray()
        previous_tick, previous_status = 0, None
        for tick, _, status, data in events:
            body += encode_vlq(tick - previous_tick)
            previous_tick = tick
            if status == 0xFF:
                body.append(status)
                previous_status = None
            elif running_status and status == previous_status:
                pass
            else:
                body.append(status)
                previous_status = status
            body += data
        body += encode_vlq(last_tick - previous_tick) + b"\xff\x2f\x00"
        return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def to_bytes(tracks: Sequence[Track], ppq: int = 480, format: int = 1,
             running_status: bool = True) -> bytes:
    """Encode tracks as a complete Standard MIDI File.

    Parameters
    ----------
    tracks : sequence of Track
        Exactly one track for format 0; format 1 puts the tempo map in the first track by
        convention (not enforced).
    ppq : int
        Ticks per quarter note (1..32767; the division word's top bit must stay clear).
    format : int
        0 (single track) or 1 (simultaneous tracks).
    running_status : bool
        See :meth:`Track.encode`.
    """
    if format not in (0, 1):
        raise ValueError(f"SMF format must be 0 or 1, got {format}")
    if format == 0 and len(tracks) != 1:
        raise ValueError(f"SMF format 0 holds exactly one track, got {len(tracks)}")
    if not tracks:
        raise ValueError("an SMF needs at least one track")
    _check("ppq", ppq, 1, 0x7FFF)
    header = b"MThd" + struct.pack(">IHHH", 6, format, len(tracks), ppq)
    return header + b"".join(t.encode(running_status) for t in tracks)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`cadence.atomic.atomic_path`: an interrupted
    write never leaves a half file under the final name."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_smf(path: str | os.PathLike[str], tracks: Sequence[Track], ppq: int = 480,
              format: int = 1, running_status: bool = True) -> None:
    """Encode ``tracks`` (see :func:`to_bytes`) and write them atomically to ``path``."""
    write_bytes_atomic(path, to_bytes(tracks, ppq, format, running_status))
