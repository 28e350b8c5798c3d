"""Drum grooves for the dataset-layout samples: onsets planned by *role* (kick, snare, closed
hi-hat, ...), each dataset then spells the roles in its own labels and renders them through the
GM pitch its label stands for, so annotations and audio come from the same events.

A groove is 4/4, sixteen steps a bar: a hi-hat or ride time-keeper, kick and backbeat snare
with ghost notes, a crash every fourth bar, a tom fill before it, plus optional extra roles at
random steps (a dataset's rarer labels). Onsets are humanised (sd 4 ms) and then placed on
whole samples, or on a coarser grid (MDB's 10 ms annotations) when ``grid_s`` is given.
Everything follows from the ``numpy`` generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Hit", "plan_groove"]

RATE_HZ = 44_100
_ACCENT = {"kick": 100, "snare": 105, "snare_ghost": 32, "hat_closed": 78, "hat_open": 90,
           "hat_pedal": 60, "ride": 80, "ride_bell": 92, "crash": 112, "tom_high": 96,
           "tom_mid": 96, "tom_low": 98, "tom_floor": 100, "side_stick": 84}


@dataclass(frozen=True)
class Hit:
    """One planned onset: ``sample`` at the dataset's rate, its role and MIDI velocity."""

    sample: int
    role: str
    velocity: int

    def time_s(self, rate_hz: int = RATE_HZ) -> float:
        return self.sample / rate_hz


def plan_groove(rng: np.random.Generator, *, duration_s: float, roles, bpm: float,
                rate_hz: int = RATE_HZ, extras: dict[str, float] | None = None,
                grid_s: float | None = None, lead_in_s: float = 0.4,
                tail_s: float = 0.6) -> list[Hit]:
    """Plan a groove of ``duration_s`` seconds using only ``roles`` (others are left out).

    ``extras`` maps a role to its chance per grid step (e.g. ENST's ``sweep``). The first onset
    is at or after ``lead_in_s`` (the audio starts silent) and the last one ``tail_s`` before the
    end. Returns hits sorted by sample, then role; a role sounds at most once per sample.
    """
    roles = set(roles)
    step_s = 60.0 / bpm / 4
    first, last = round(lead_in_s * rate_hz), round((duration_s - tail_s) * rate_hz)
    ride_keeps_time = "ride" in roles and rng.random() < 0.35
    planned: dict[tuple[int, str], int] = {}

    def hit(step_index: int, role: str, velocity: int | None = None) -> None:
        if role not in roles:
            return
        t = lead_in_s + step_index * step_s + float(np.clip(rng.normal(0, 4e-3), -1e-2, 1e-2))
        if grid_s is not None:
            t = round(t / grid_s) * grid_s
        sample = max(first, round(t * rate_hz))
        if sample > last:
            return
        base = _ACCENT.get(role, 80) if velocity is None else velocity
        planned[sample, role] = int(np.clip(round(base + rng.normal(0, 8)), 1, 127))

    n_bars = int((duration_s - lead_in_s - tail_s) / (16 * step_s)) + 1
    for bar in range(n_bars):
        s0 = bar * 16
        fill_from = 12 if bar % 4 == 3 and rng.random() < 0.8 else 16
        for step in range(16):
            if step >= fill_from:
                tom = ("tom_high", "tom_mid", "tom_low", "tom_floor")[min(3, (step - fill_from))]
                if tom not in roles:
                    tom = next((r for r in ("tom_mid", "tom_low", "tom_high", "snare") if r in roles), "snare")
                hit(s0 + step, tom)
                continue
            if ride_keeps_time:
                if step % 4 == 0 or step % 4 == 3:
                    hit(s0 + step, "ride_bell" if step == 8 and rng.random() < 0.3 else "ride")
                if step in (4, 12):
                    hit(s0 + step, "hat_pedal")
            elif step % 2 == 0:
                hit(s0 + step, "hat_open" if step == 14 and rng.random() < 0.5 else "hat_closed")
            if step in (0, 8) or (step in (3, 6, 10) and rng.random() < 0.35):
                hit(s0 + step, "kick")
            if step in (4, 12):
                hit(s0 + step, "side_stick" if rng.random() < 0.1 else "snare")
            elif step % 2 == 1 and rng.random() < 0.15:
                hit(s0 + step, "snare_ghost")
            for role, chance in (extras or {}).items():
                if rng.random() < chance:
                    hit(s0 + step, role)
        if bar % 4 == 0:
            hit(s0, "crash")
    return [Hit(sample, role, velocity) for (sample, role), velocity in sorted(planned.items())]
