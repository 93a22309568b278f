"""Internal units and the parser that converts physical quantities at the boundary.

Inside neurosim every number is a plain float64 in NEURON's unit system. Model files
and the public API take quantities with units (``"0.12 S/cm2"``, ``"10 um"``); they are
converted once, here, and never again.

=====================  ==============  ==========================================
quantity               internal unit   notes
=====================  ==============  ==========================================
voltage                mV
time                   ms              rates are 1/ms
length                 um
temperature            degC            Q10 scaling uses differences (K = degC)
concentration          mM
conductance density    S/cm2           as NEURON's density mechanisms (hh: 0.12)
current density        mA/cm2
capacitance density    uF/cm2
axial resistivity      ohm*cm
current                nA              point sources (stimuli)
conductance            uS              absolute, per compartment (kernels)
capacitance            nF              absolute, per compartment (kernels)
pressure               mmHg
oxygen                 mM              dissolved O2 (1 mg/L = 1/32 mM; PO2 1 mmHg
                                       = 1.39 uM in plasma at 37 degC)
frequency              Hz              spike rates
velocity               m/s             conduction velocity (um/ms = 1e-3 m/s)
=====================  ==============  ==========================================

The kernel identities that follow from this table: nF * mV/ms = nA, uS * mV = nA,
(S/cm2) * um2 = 1e-2 uS, (uF/cm2) * um2 = 1e-5 nF, Ra L / (pi r^2) in ohm*cm, um, um
is 1e-2 MOhm.
"""

from __future__ import annotations

import math
import re

__all__ = ["INTERNAL", "UNITS", "parse_quantity", "format_quantity", "DIMENSIONS"]

#: internal unit per dimension (the table above, as data)
INTERNAL: dict[str, str] = {
    "voltage": "mV",
    "time": "ms",
    "length": "um",
    "temperature": "degC",
    "concentration": "mM",
    "conductance_density": "S/cm2",
    "current_density": "mA/cm2",
    "capacitance_density": "uF/cm2",
    "resistivity": "ohm*cm",
    "current": "nA",
    "conductance": "uS",
    "capacitance": "nF",
    "pressure": "mmHg",
    "oxygen": "mM",
    "frequency": "Hz",
    "rate": "1/ms",
    "velocity": "m/s",
    "resistance_per_length": "MOhm/cm",
    "flux": "mM/s",
    "dimensionless": "1",
}

#: accepted spellings per dimension and their factor to the internal unit
UNITS: dict[str, dict[str, float]] = {
    "voltage": {"mV": 1.0, "V": 1e3, "uV": 1e-3},
    "time": {"ms": 1.0, "s": 1e3, "us": 1e-3, "min": 60e3, "h": 3600e3},
    "length": {"um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6},
    "temperature": {"degC": 1.0},
    "concentration": {"mM": 1.0, "uM": 1e-3, "M": 1e3, "mmol/L": 1.0},
    "conductance_density": {"S/cm2": 1.0, "mS/cm2": 1e-3, "uS/cm2": 1e-6, "pS/um2": 1e-4},
    "current_density": {"mA/cm2": 1.0, "uA/cm2": 1e-3, "nA/cm2": 1e-6},
    "capacitance_density": {"uF/cm2": 1.0, "F/m2": 100.0},
    "resistivity": {"ohm*cm": 1.0, "ohm cm": 1.0, "kohm*cm": 1e3, "ohm*m": 100.0},
    "current": {"nA": 1.0, "pA": 1e-3, "uA": 1e3},
    "conductance": {"uS": 1.0, "nS": 1e-3, "mS": 1e3},
    "capacitance": {"nF": 1.0, "pF": 1e-3, "uF": 1e3},
    "pressure": {"mmHg": 1.0, "kPa": 7.500615758, "cmH2O": 0.735559},
    # O2: molar mass 32 g/mol; Henry's law in plasma at 37 degC, 1.39 uM per mmHg
    "oxygen": {"mM": 1.0, "uM": 1e-3, "mg/L": 1.0 / 32.0, "mmHg": 1.39e-3},
    "frequency": {"Hz": 1.0, "/s": 1.0, "1/s": 1.0, "/min": 1.0 / 60.0, "1/min": 1.0 / 60.0},
    "rate": {"1/ms": 1.0, "/ms": 1.0, "1/s": 1e-3, "/s": 1e-3},
    "velocity": {"m/s": 1.0, "mm/ms": 1.0, "um/ms": 1e-3},
    "resistance_per_length": {"MOhm/cm": 1.0, "ohm/cm": 1e-6, "kOhm/cm": 1e-3},
    "flux": {"mM/s": 1.0, "mM/ms": 1e3},
    "dimensionless": {"1": 1.0, "": 1.0},
}

DIMENSIONS = tuple(UNITS)

_QUANTITY = re.compile(
    r"^\s*([-+]?(?:nan|infinity|inf|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))\s*(.*?)\s*$",
    re.IGNORECASE,
)


def parse_quantity(value: object, dimension: str, key: str) -> float:
    """Convert ``"<number> <unit>"`` to a float in the internal unit of ``dimension``.

    Parameters
    ----------
    value : str or number
        ``"0.12 S/cm2"``. A bare number is accepted only for dimensionless keys.
    dimension : str
        One of :data:`DIMENSIONS`.
    key : str
        Name used in error messages (``"morphology.diam"``).

    Raises
    ------
    ValueError
        Missing or unknown unit, a unit of the wrong dimension, or a non-finite number.
    """
    if dimension not in UNITS:
        raise ValueError(f"unknown dimension {dimension!r}; valid: {', '.join(DIMENSIONS)}")
    allowed = UNITS[dimension]
    if isinstance(value, bool):
        raise TypeError(f"`{key}` = {value!r}: expected a number with a unit, got a boolean")
    if isinstance(value, int | float):
        if dimension != "dimensionless":
            raise ValueError(
                f"`{key}` = {value!r} has no unit; write it as e.g. "
                f'"{value} {INTERNAL[dimension]}" (allowed units: {", ".join(allowed)})'
            )
        number, unit = float(value), ""
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        if match is None:
            raise ValueError(
                f"`{key}` = {value!r} is not a quantity; expected '<number> <unit>' "
                f"with unit one of {', '.join(u for u in allowed if u)}"
            )
        number, unit = float(match.group(1)), match.group(2)
    else:
        raise TypeError(f"`{key}` = {value!r}: expected a string like '1.0 {INTERNAL[dimension]}'")
    if unit not in allowed:
        if not unit:
            raise ValueError(
                f"`{key}` = {value!r} has no unit; allowed units: "
                f"{', '.join(u for u in allowed if u)}"
            )
        other = [d for d, table in UNITS.items() if unit in table]
        hint = f" ({unit!r} is a unit of {other[0]})" if other else ""
        raise ValueError(
            f"`{key}` = {value!r}: unit {unit!r} is not a {dimension.replace('_', ' ')} unit"
            f"{hint}; allowed: {', '.join(u for u in allowed if u)}"
        )
    if not math.isfinite(number):
        raise ValueError(f"`{key}` = {value!r} is not finite")
    return number * allowed[unit]


def format_quantity(number: float, dimension: str) -> str:
    """Inverse of :func:`parse_quantity` in the internal unit (for saving and messages)."""
    unit = INTERNAL[dimension]
    return f"{number:.12g} {unit}".strip() if unit != "1" else f"{number:.12g}"
