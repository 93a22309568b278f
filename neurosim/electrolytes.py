"""Plasma electrolytes and what they change in the membranes of the chain.

A scenario's ``[electrolytes]`` table gives plasma values; :func:`read_electrolytes`
checks them and :meth:`Electrolytes.overrides` turns them into model-file overrides:

- **Divalent cations** (ionised Ca and Mg) screen the fixed negative charge on the
  outer membrane surface. Lowering them makes the surface potential more negative, so
  the field across the membrane, which the gates sense, is that of a more depolarised
  cell: every voltage-dependent gate shifts towards hyperpolarised voltages and the
  membrane becomes more excitable (Frankenhaeuser & Hodgkin 1957, J Physiol 137:218;
  Hille, *Ion Channels of Excitable Membranes*, ch. 20; SCIENCE.md section 7).
  :func:`surface_shift` uses the logarithmic dependence measured on squid axon, 10-15 mV
  per 5-fold change of [Ca]o (12.5 mV, i.e. 17.9 mV per decade), on the sum of ionised
  Ca and Mg (Gouy-Chapman screening depends on the charge of an ion, not its species;
  specific binding, which makes Ca somewhat more potent than Mg, is neglected). The
  shift applies to the axons (``model.gating_shift``) and to the motor neurons (every
  gating midpoint ``th_*`` of ``models/spinal/*.toml``).
- **Potassium**: plasma [K] is the ion layer's bath value ``ko`` for the root (the
  concentrations then follow from the ion dynamics) and sets the motor neurons' K
  reversal potential by the Nernst equation (37 degC).
- **Sodium** is the ion layer's ``nao``.

Reference (normal) values: K 4.0, Na 145, ionised Ca 1.2 and ionised Mg 0.55 mM (the
middle of the normal ranges in SCIENCE.md section 7; about 65% of total plasma Mg is
ionised). Values are ionised concentrations in mM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurosim.modelfile import Field, read_table

__all__ = [
    "Electrolytes",
    "NORMAL",
    "SHIFT_PER_DECADE",
    "ELECTROLYTE_FIELDS",
    "read_electrolytes",
    "surface_shift",
    "nernst_shift",
]

#: surface-charge shift per 10-fold change of divalent cations (mV): squid axon,
#: 10-15 mV per 5-fold [Ca]o (Frankenhaeuser & Hodgkin 1957), 12.5 / log10(5)
SHIFT_PER_DECADE = 12.5 / math.log10(5.0)
#: RT/F at 37 degC (mV)
RT_F_37 = 8.314462618 * 310.15 / 96485.33212 * 1e3

_POS = {"lo": 0.0, "lo_open": True}
ELECTROLYTE_FIELDS = {
    "k": Field("concentration", default=4.0, **_POS, hi=12.0, doc="plasma [K]"),
    "na": Field("concentration", default=145.0, lo=100.0, hi=180.0, doc="plasma [Na]"),
    "ca": Field("concentration", default=1.2, **_POS, hi=4.0, doc="ionised plasma [Ca]"),
    "mg": Field("concentration", default=0.55, **_POS, hi=4.0, doc="ionised plasma [Mg]"),
}


@dataclass(frozen=True)
class Electrolytes:
    """Plasma K, Na and ionised Ca and Mg (mM)."""

    k: float = 4.0
    na: float = 145.0
    ca: float = 1.2
    mg: float = 0.55

    def __post_init__(self) -> None:
        for name, f in ELECTROLYTE_FIELDS.items():
            v = getattr(self, name)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"electrolyte {name} = {v} mM must be a positive number")
            if v < f.lo or v > f.hi:
                raise ValueError(f"electrolyte {name} = {v} mM is outside [{f.lo}, {f.hi}] mM")

    @property
    def gating_shift(self) -> float:
        """Shift of every gate (mV) against :data:`NORMAL`."""
        return surface_shift(self.ca, self.mg)

    @property
    def ek_shift(self) -> float:
        """Change of the K reversal potential (mV) against :data:`NORMAL`."""
        return nernst_shift(self.k, NORMAL.k)

    def is_normal(self) -> bool:
        return self == NORMAL

    def overrides(self, spinal) -> dict:
        """Model-file overrides: ``axon`` (every axon group), ``ions`` (the root's ion
        layer) and ``spinal`` (the motor neurons of ``spinal``, a SpinalModel)."""
        shift = self.gating_shift
        mn = spinal["motoneuron"]
        spinal_set = {
            key: f"{float(mn[key]) + shift!r} mV"
            for key in sorted(mn)
            if key.startswith("th_") and isinstance(mn[key], float)
        }
        spinal_set["ek"] = f"{float(mn['ek']) + self.ek_shift!r} mV"
        return {
            "axon": {"model.gating_shift": f"{float(shift)!r} mV"},
            "ions": {"ko": f"{float(self.k)!r} mM", "nao": f"{float(self.na)!r} mM"},
            "spinal": {"motoneuron": spinal_set},
        }


#: the reference plasma (mid-normal values)
NORMAL = Electrolytes()


def surface_shift(ca: float, mg: float, ref: Electrolytes | None = None) -> float:
    """Gating shift (mV) when ionised Ca and Mg (mM) replace the reference values:
    ``SHIFT_PER_DECADE * log10((ca + mg) / (ca_ref + mg_ref))``; negative when they
    fall (more excitable)."""
    ref = ref or NORMAL
    for name, v in (("ca", ca), ("mg", mg)):
        if not math.isfinite(v) or v <= 0:
            raise ValueError(f"ionised {name} = {v} mM must be a positive number")
    return SHIFT_PER_DECADE * math.log10((ca + mg) / (ref.ca + ref.mg))


def nernst_shift(k: float, k_ref: float) -> float:
    """Change of a K reversal potential (mV) when [K]o goes from ``k_ref`` to ``k``."""
    return RT_F_37 * math.log(k / k_ref)


def read_electrolytes(table: dict | None, where: str = "electrolytes") -> Electrolytes:
    """A checked :class:`Electrolytes` from an ``[electrolytes]`` table (quantities with
    units, e.g. ``ca = "0.9 mM"``); missing keys take the normal values."""
    t = read_table(table or {}, ELECTROLYTE_FIELDS, where)
    return Electrolytes(**t)
