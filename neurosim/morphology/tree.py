"""Sections and their discretisation into compartments, as NEURON does it.

A :class:`Section` is an unbranched cylinder split into ``nseg`` equal segments; the
compartments are the segment centres. Axial resistance between neighbouring centres is
the sum of the two half-segment resistances (each from its own segment's diameter and
``Ra``), so that results agree with NEURON at the same ``nseg``. Sections meet at their
ends: a child's ``0`` end attaches to the parent's ``1`` end (or to the centre of the
parent segment holding ``parent_x`` for a mid-section branch).

NEURON puts a zero-area node at every section junction. Where exactly two half-segments
meet (a plain continuation) that node carries no current of its own and is eliminated
exactly (two resistors in series). Where three or more meet (a branch point) it is
kept as a compartment with zero membrane area. Sealed ends carry no current and need no
node.

The optional periaxonal layer (NEURON's ``extracellular``, first layer) gives each
section ``xraxial`` (MOhm/cm), ``xg`` (S/cm2, to ground) and ``xc`` (uF/cm2, to ground).
If any section has it, every section gets it, with NEURON's insert defaults
(``xraxial = xg = 1e9``, ``xc = 0``: practically grounded) where not given.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from neurosim.validate import check_int, check_positive, check_range

__all__ = ["Section", "Morphology", "Geometry", "parse_site"]

#: NEURON's defaults for an inserted ``extracellular`` layer
XDEFAULT = {"xraxial": 1e9, "xg": 1e9, "xc": 0.0}


@dataclass
class Section:
    """An unbranched cable section.

    Parameters
    ----------
    name : str
        Unique name; arrays of sections use ``"node[3]"``.
    L : float
        Length (um).
    diam : float or array of shape (nseg,)
        Diameter (um), per segment if an array.
    nseg : int
        Number of segments (compartments).
    Ra : float
        Axial resistivity (ohm*cm).
    cm : float
        Specific membrane capacitance (uF/cm2).
    parent : str or None
        Name of the parent section (``None`` for the root).
    parent_x : float
        Where on the parent the ``0`` end attaches (1 = its far end).
    xraxial, xg, xc : float or None
        Periaxonal layer (MOhm/cm, S/cm2, uF/cm2); ``None`` means none given.
    """

    name: str
    L: float
    diam: float | np.ndarray
    nseg: int = 1
    Ra: float = 35.4
    cm: float = 1.0
    parent: str | None = None
    parent_x: float = 1.0
    xraxial: float | None = None
    xg: float | None = None
    xc: float | None = None

    def __post_init__(self) -> None:
        where = f"section {self.name!r}"
        self.nseg = check_int(f"{where}.nseg", self.nseg, 1, 100_000)
        self.L = float(check_positive(f"{where}.L", self.L, "um"))
        self.Ra = float(check_positive(f"{where}.Ra", self.Ra, "ohm*cm"))
        self.cm = float(check_positive(f"{where}.cm", self.cm, "uF/cm2"))
        diam = check_positive(f"{where}.diam", self.diam, "um")
        if diam.ndim == 0:
            diam = np.full(self.nseg, float(diam))
        if diam.shape != (self.nseg,):
            raise ValueError(f"`{where}.diam` has shape {diam.shape}; expected ({self.nseg},)")
        self.diam = diam
        self.parent_x = float(check_range(f"{where}.parent_x", self.parent_x, 0.0, 1.0))
        if self.xraxial is not None:
            check_positive(f"{where}.xraxial", self.xraxial, "MOhm/cm")
        if self.xg is not None:
            check_range(f"{where}.xg", self.xg, 0.0, unit="S/cm2")
        if self.xc is not None:
            check_range(f"{where}.xc", self.xc, 0.0, unit="uF/cm2")

    @property
    def has_extracellular(self) -> bool:
        return any(x is not None for x in (self.xraxial, self.xg, self.xc))

    def seg_length(self) -> float:
        return self.L / self.nseg

    def half_resistance(self, k: int) -> float:
        """Axoplasmic resistance (MOhm) of half of segment ``k``."""
        r = 0.5 * self.diam[k]
        return 1e-2 * self.Ra * 0.5 * self.seg_length() / (math.pi * r * r)

    def half_resistance_x(self) -> float:
        """Periaxonal resistance (MOhm) of half a segment (xraxial in MOhm/cm)."""
        xr = self.xraxial if self.xraxial is not None else XDEFAULT["xraxial"]
        return xr * 0.5 * self.seg_length() * 1e-4


@dataclass
class Geometry:
    """The compartments of one morphology, as float64 arrays of shape (n,).

    ``area`` um2, ``cap`` nF, ``gax`` uS (axial conductance to the parent compartment,
    0 for the root), ``position`` um (path distance from the root section's 0 end), and
    for a double cable ``capx`` nF, ``gxg`` uS (periaxonal to ground), ``gxa`` uS.
    """

    parent: np.ndarray
    area: np.ndarray
    cap: np.ndarray
    gax: np.ndarray
    position: np.ndarray
    capx: np.ndarray | None = None
    gxg: np.ndarray | None = None
    gxa: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.parent.shape[0]

    @property
    def double(self) -> bool:
        return self.capx is not None


_SITE = re.compile(r"^\s*([A-Za-z_][\w]*(?:\[\d+\])?)\s*(?:\(\s*([0-9.eE+-]+)\s*\))?\s*$")


def parse_site(text: str) -> tuple[str, float]:
    """``"axon(0.25)"`` -> ``("axon", 0.25)``; ``"node[3]"`` -> ``("node[3]", 0.5)``."""
    if not isinstance(text, str):
        raise TypeError(f"site {text!r} must be a string like 'axon(0.5)' or 'node[3]'")
    m = _SITE.match(text)
    if m is None:
        raise ValueError(f"site {text!r} is not of the form 'section(x)' or 'name[i](x)'")
    x = 0.5 if m.group(2) is None else float(m.group(2))
    return m.group(1), x


@dataclass
class Morphology:
    """A tree of sections, discretised into compartments (Hines-ordered: parent < child).

    Build it with a list of :class:`Section` whose parents come before their children.
    """

    sections: list[Section]
    _by_name: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.sections:
            raise ValueError("a morphology needs at least one section")
        roots = [s for s in self.sections if s.parent is None]
        if len(roots) != 1:
            raise ValueError(
                f"a morphology needs exactly one root section (parent = None), got "
                f"{[s.name for s in roots]}"
            )
        for s in self.sections:
            if s.name in self._by_name:
                raise ValueError(f"duplicate section name {s.name!r}")
            if s.parent is not None and s.parent not in self._by_name:
                raise ValueError(
                    f"section {s.name!r}: parent {s.parent!r} is not defined before it"
                )
            if s.parent is not None and s.parent_x == 0.0 and self._by_name[s.parent].parent:
                raise ValueError(
                    f"section {s.name!r}: attaching to the 0 end of the non-root section "
                    f"{s.parent!r} is not supported; attach to its parent instead"
                )
            self._by_name[s.name] = s
        self._discretise()

    # -- discretisation -----------------------------------------------------------------
    def _discretise(self) -> None:
        secs = self.sections
        double = any(s.has_extracellular for s in secs)
        children: dict[str, list[Section]] = {s.name: [] for s in secs}
        for s in secs:
            if s.parent is not None:
                children[s.parent].append(s)
        root = next(s for s in secs if s.parent is None)

        parent: list[int] = []
        half_r: list[float] = []  # axial resistance from a compartment to its parent (MOhm)
        half_rx: list[float] = []
        area: list[float] = []
        cm: list[float] = []
        xg: list[float] = []
        xc: list[float] = []
        pos: list[float] = []
        self.sec_start: dict[str, int] = {}
        self.sec_position0: dict[str, float] = {}

        def add(par: int, r: float, rx: float, a: float, c: float, g: float, cx: float, p: float):
            parent.append(par)
            half_r.append(r)
            half_rx.append(rx)
            area.append(a)
            cm.append(c)
            xg.append(g)
            xc.append(cx)
            pos.append(p)
            return len(parent) - 1

        def xvals(s: Section) -> tuple[float, float]:
            g = s.xg if s.xg is not None else XDEFAULT["xg"]
            c = s.xc if s.xc is not None else XDEFAULT["xc"]
            return g, c

        # A "port" is where the next half-segment attaches: (compartment, series R, Rx).
        def place(sec: Section, port: tuple[int, float, float], start_pos: float) -> None:
            self.sec_start[sec.name] = len(parent)
            self.sec_position0[sec.name] = start_pos
            g, c = xvals(sec)
            hx = sec.half_resistance_x()
            seglen = sec.seg_length()
            par, r_up, rx_up = port
            for k in range(sec.nseg):
                a = math.pi * sec.diam[k] * seglen
                idx = add(
                    par,
                    r_up + sec.half_resistance(k),
                    rx_up + hx,
                    a,
                    sec.cm,
                    g,
                    c,
                    start_pos + (k + 0.5) * seglen,
                )
                par, r_up, rx_up = idx, sec.half_resistance(k), hx
            kids = children[sec.name]
            first = self.sec_start[sec.name]
            # the 1 end, and for the root also the 0 end (children at parent_x = 0)
            ends = [((par, r_up, rx_up), [ch for ch in kids if ch.parent_x == 1.0], sec.L)]
            if sec.parent is None:
                port0 = (first, sec.half_resistance(0), hx)
                ends.append((port0, [ch for ch in kids if ch.parent_x == 0.0], 0.0))
            for port_end, attached, x_pos in ends:
                if len(attached) >= 2:
                    # a branch point: NEURON's zero-area junction node, kept explicitly
                    junction = add(*port_end, 0.0, 0.0, 0.0, 0.0, start_pos + x_pos)
                    for ch in attached:
                        place(ch, (junction, 0.0, 0.0), start_pos + x_pos)
                elif attached:
                    place(attached[0], port_end, start_pos + x_pos)
            for ch in kids:
                if 0.0 < ch.parent_x < 1.0:
                    k = self._segment_of(sec, ch.parent_x)
                    place(ch, (first + k, 0.0, 0.0), start_pos + (k + 0.5) * seglen)

        place(root, (-1, 0.0, 0.0), 0.0)
        self.sec_end: dict[str, int] = {}
        for s in secs:
            self.sec_end[s.name] = self.sec_start[s.name] + s.nseg

        n = len(parent)
        par = np.array(parent, dtype=np.int64)
        if n > 1 and not np.all(par[1:] < np.arange(1, n)):
            raise AssertionError("compartments are not Hines-ordered")
        gax = np.zeros(n)
        r = np.array(half_r)
        gax[1:] = 1.0 / r[1:]
        a = np.array(area)
        self.geometry = Geometry(
            parent=par,
            area=a,
            cap=1e-5 * np.array(cm) * a,
            gax=gax,
            position=np.array(pos),
        )
        if double:
            gxa = np.zeros(n)
            rx = np.array(half_rx)
            gxa[1:] = 1.0 / rx[1:]
            self.geometry.capx = 1e-5 * np.array(xc) * a
            self.geometry.gxg = 1e-2 * np.array(xg) * a
            self.geometry.gxa = gxa

    @staticmethod
    def _segment_of(sec: Section, x: float) -> int:
        return min(int(x * sec.nseg), sec.nseg - 1)

    # -- addressing ---------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.geometry.n

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.sections]

    def section(self, name: str) -> Section:
        try:
            return self._by_name[name]
        except KeyError:
            shown = ", ".join(self.names[:8]) + (" ..." if len(self.sections) > 8 else "")
            raise ValueError(f"no section named {name!r}; sections: {shown}") from None

    def compartment(self, site: str) -> int:
        """Compartment index of a site ``"name(x)"`` (the segment that holds ``x``).

        As in NEURON, ``x = 0`` and ``x = 1`` refer to the end segments (a current
        injected at a sealed end enters the end segment).
        """
        name, x = parse_site(site)
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"site {site!r}: x = {x} is outside the section; allowed [0, 1]")
        sec = self.section(name)
        return self.sec_start[name] + self._segment_of(sec, x)

    def compartments(self, pattern: str = "*") -> np.ndarray:
        """All compartments of the sections whose names match a glob (``"node[*]"``).

        ``*`` and ``?`` are wildcards; brackets are literal (section arrays).
        """
        rx = re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")
        idx = [
            np.arange(self.sec_start[s.name], self.sec_end[s.name])
            for s in self.sections
            if rx.match(s.name)
        ]
        if not idx:
            raise ValueError(
                f"no section matches {pattern!r}; sections: {', '.join(self.names[:8])}"
            )
        return np.concatenate(idx)

    def label(self, comp: int) -> str:
        """``"name(x)"`` of a compartment (its segment centre), ``"name"`` for a
        one-segment section, ``"junction[i]"`` for a branch-point node."""
        for s in self.sections:
            start = self.sec_start[s.name]
            if start <= comp < start + s.nseg:
                return s.name if s.nseg == 1 else f"{s.name}({(comp - start + 0.5) / s.nseg:.6g})"
        return f"junction[{comp}]"
