"""LocoHub's variable-name standard: which names comply, and a suggestion for those that do not.

Joint and segment variables are ``<joint|segment>_<motion>_<measurement>[_<side>]_<unit>``
(``knee_flexion_angle_ipsi_rad``, ``pelvis_sagittal_angle_rad``, ``hip_flexion_moment_ipsi_Nm_kg``,
``hip_flexion_assistance_moment_ipsi_Nm_kg``); force and pressure variables are
``<grf|cop>_<axis>_<side>_<unit>`` (``grf_vertical_ipsi_BW``, ``cop_anterior_contra_m``). The
vocabularies below accept every name in LocoHub's current feature constants; every LocoHub
version raises ``ValueError`` on a feature outside the standard, and so does ``LocomotionData``.
"""

from __future__ import annotations

from .loading import warn

JOINTS = ("hip", "knee", "ankle", "pelvis", "trunk", "thigh", "shank", "foot")
#: LocoHub's motions, plus the anatomical terms a converted dataset may use for the same planes
#: (LocoHub itself rejects the last six: docs/gait.md, "Compatibility").
MOTIONS = ("flexion", "adduction", "rotation", "dorsiflexion", "tilt", "obliquity", "lateral", "progression",
           "sagittal", "frontal", "transverse",
           "eversion", "inversion", "abduction", "extension", "plantarflexion", "internal")
MEASUREMENTS = ("angle", "velocity", "moment", "power")
#: Qualifiers of a moment in LocoHub's constants (exoskeleton assistance, biological part).
MOMENT_QUALIFIERS = ("assistance", "biological")
SIDES = ("contra", "ipsi")
UNITS = ("rad", "rad_s", "Nm", "Nm_kg", "W", "W_kg", "deg", "deg_s")
FORCE_SIGNALS = ("grf", "cop")
FORCE_AXES = ("vertical", "anterior", "lateral")
FORCE_UNITS = {"grf": ("N", "BW"), "cop": ("m",)}
NAME_PATTERN = "<joint>_<motion>_<measurement>_<side>_<unit>"
#: Older converted files name forces <axis>_grf_<side>_<unit>; LocoHub's newest package reads them
#: under the current names (old -> new).
LEGACY_GRF_ALIASES = {f"{axis}_grf_{side}_{unit}": f"grf_{axis}_{side}_{unit}"
                      for axis in FORCE_AXES for side in SIDES for unit in FORCE_UNITS["grf"]}


def _split_unit(parts: list[str]) -> tuple[list[str], str] | None:
    """(leading parts, unit): compound units (rad_s, Nm_kg, ...) are tried first."""
    if len(parts) >= 3 and f"{parts[-2]}_{parts[-1]}" in UNITS:
        return parts[:-2], f"{parts[-2]}_{parts[-1]}"
    if len(parts) >= 2 and parts[-1] in UNITS:
        return parts[:-1], parts[-1]
    return None


def is_standard_compliant(name: str) -> bool:
    """True when ``name`` follows LocoHub's variable-name standard (see the module docstring)."""
    parts = name.split("_")
    if parts[0] in FORCE_SIGNALS:
        return (len(parts) == 4 and parts[1] in FORCE_AXES and parts[2] in SIDES
                and parts[3] in FORCE_UNITS[parts[0]])
    split = _split_unit(parts)
    if split is None:
        return False
    head, _ = split
    if head and head[-1] in SIDES:
        head = head[:-1]  # the side is optional, as in LocoHub (pelvis_sagittal_angle_rad)
    if len(head) == 4 and head[2] in MOMENT_QUALIFIERS and head[3] == "moment":
        head = [head[0], head[1], "moment"]
    return (len(head) == 3 and head[0] in JOINTS and head[1] in MOTIONS and head[2] in MEASUREMENTS)


def has_biomechanical_keywords(name: str) -> bool:
    """True when the name contains a joint, motion, measurement or side word (any case)."""
    lower = name.lower()
    return any(word in lower for word in JOINTS + MOTIONS + MEASUREMENTS + SIDES)


def suggest_standard_name(name: str) -> str:
    """A standard name guessed from the words in ``name``: the first joint, motion and
    measurement words found (unknown, flexion, angle otherwise), contra if the name says so
    (else ipsi), and the unit the name spells (rad when it spells none), as LocoHub suggests.

    LocoHub picks rad_s/deg_s whenever the name has an 's' anywhere (every 'ipsi' name does);
    here the name must end in '_s' or say 'per_s'."""
    lower = name.lower()
    joint = next((j for j in JOINTS if j in lower), "unknown")
    motion = next((m for m in MOTIONS if m in lower), "flexion")
    measurement = next((m for m in MEASUREMENTS if m in lower), "angle")
    side = "contra" if "contra" in lower else "ipsi"
    per_second = lower.endswith("_s") or "per_s" in lower
    if "rad" in lower:
        unit = "rad_s" if per_second else "rad"
    elif "deg" in lower:
        unit = "deg_s" if per_second else "deg"
    elif "nm" in lower:
        unit = "Nm_kg" if "kg" in lower else "Nm"
    else:
        unit = "rad"
    return "_".join((joint, motion, measurement, side, unit))


def non_standard_error(name: str) -> str:
    """LocoHub's message for a feature outside the standard (every LocoHub version raises it)."""
    return (f"Non-standard variable name detected: '{name}'. Expected format: {NAME_PATTERN}. "
            f"Suggestion: {suggest_standard_name(name)}")


def check_names(features: list[str], data_path, strict: bool, verbose: bool) -> dict:
    """LocoHub's variable-name validation at load: its report dict; ``strict`` raises on the
    first non-standard name (naming the file and how to load it anyway), else one warning."""
    report: dict[str, list[str]] = {"standard_compliant": [], "non_standard": [], "warnings": [], "errors": []}
    for f in features:
        if is_standard_compliant(f):
            report["standard_compliant"].append(f)
            continue
        report["non_standard"].append(f)
        report["errors"].append(f"Variable '{f}' does not follow standard naming convention: {NAME_PATTERN}")
        if strict:
            raise ValueError(f"{non_standard_error(f)} ({data_path}; pass strict_names=False to load it anyway)")
    if report["non_standard"]:
        bad = report["non_standard"]
        warn(f"{len(bad)} feature name(s) do not follow LocoHub's convention {NAME_PATTERN} "
             f"(e.g. knee_flexion_angle_ipsi_rad): {bad[:8]}{' ...' if len(bad) > 8 else ''}. "
             f"Validation applies LocoHub's limits by the words angle/velocity/moment in the name, "
             f"assuming rad, rad_s and Nm_kg.")
        if verbose:
            print(f"Variable name validation: {len(report['standard_compliant'])} standard, {len(bad)} non-standard")
    elif verbose:
        print(f"Variable name validation: All {len(report['standard_compliant'])} variables are standard compliant")
    return report
