"""Geometry of the McIntyre-Richardson-Grill (MRG) myelinated axon, double cable.

McIntyre CC, Richardson AG, Grill WM (2002) J Neurophysiol 87:995 (ModelDB 3810); the
table and construction rules are those of neurosim's SCIENCE.md section 3. Each node of
Ranvier is followed by an internode of 2 MYSA, 2 FLUT and 6 STIN sections
(node - MYSA - FLUT - 6 STIN - FLUT - MYSA - node), one compartment per section.

As in the published NEURON code, every paranodal and internodal section takes the FIBRE
diameter, with axial resistivity scaled by (fibreD/innerD)^2 and membrane capacitance
and conductances by innerD/fibreD, so that the inner axon is represented on the fibre's
surface area. The periaxonal space is the second layer of the double cable: its axial
resistance per length is rho_a / (pi ((d/2 + space)^2 - (d/2)^2)) for the section's
inner diameter d; the myelin (lamellae x 2 membranes in series) joins it to ground; at
the nodes it is shorted to ground.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from neurosim.morphology.tree import Section
from neurosim.validate import check_int, check_positive, check_range

__all__ = [
    "MRG_TABLE",
    "MRG_COLUMNS",
    "MRGGeometry",
    "GEOMETRY_KEYS",
    "mrg_geometry",
    "mrg_sections",
    "SECTION_TYPES",
]

#: fibre D, axon (inner) diameter, node = MYSA diameter, FLUT diameter, node spacing,
#: FLUT length (um), myelin lamellae: McIntyre et al. 2002 Table 1 via SCIENCE.md
MRG_COLUMNS = (
    "fiber_diameter",
    "axon_diameter",
    "node_diameter",
    "flut_diameter",
    "node_spacing",
    "flut_length",
    "lamellae",
)
MRG_TABLE = np.array(
    [
        [5.7, 3.4, 1.9, 3.4, 500.0, 35.0, 80.0],
        [7.3, 4.6, 2.4, 4.6, 750.0, 38.0, 100.0],
        [8.7, 5.8, 2.8, 5.8, 1000.0, 40.0, 110.0],
        [10.0, 6.9, 3.3, 6.9, 1150.0, 46.0, 120.0],
        [11.5, 8.1, 3.7, 8.1, 1250.0, 50.0, 130.0],
        [12.8, 9.2, 4.2, 9.2, 1350.0, 54.0, 135.0],
        [14.0, 10.4, 4.7, 10.4, 1400.0, 56.0, 140.0],
        [15.0, 11.5, 5.0, 11.5, 1450.0, 58.0, 145.0],
        [16.0, 12.7, 5.5, 12.7, 1500.0, 60.0, 150.0],
    ]
)

SECTION_TYPES = ("node", "mysa", "flut", "stin")

#: periaxonal layer at the nodes: shorted to ground (S/cm2), as the published code
NODE_XG = 1e10


@dataclass(frozen=True)
class MRGGeometry:
    """One fibre's geometry and passive constants (um, ohm*cm, uF/cm2, S/cm2)."""

    fiber_diameter: float
    axon_diameter: float
    node_diameter: float
    flut_diameter: float
    node_spacing: float
    flut_length: float
    lamellae: float
    node_length: float = 1.0
    mysa_length: float = 3.0
    space_node: float = 0.002  # periaxonal space at node and MYSA
    space_internode: float = 0.004  # at FLUT and STIN
    rho_a: float = 70.0
    cm: float = 2.0  # axolemma
    myelin_cm: float = 0.1  # per lamella membrane
    myelin_g: float = 0.001  # per lamella membrane

    @property
    def stin_length(self) -> float:
        """Length of each of the six STIN sections (um)."""
        return (
            self.node_spacing - self.node_length - 2 * self.mysa_length - 2 * self.flut_length
        ) / 6.0

    def inner_diameter(self, kind: str) -> float:
        """Diameter of the axon itself in a section type (um)."""
        return {
            "node": self.node_diameter,
            "mysa": self.node_diameter,
            "flut": self.flut_diameter,
            "stin": self.axon_diameter,
        }[kind]

    def ratio(self, kind: str) -> float:
        """innerD / fibreD: the scale of membrane capacitance and conductance (1 at nodes)."""
        return 1.0 if kind == "node" else self.inner_diameter(kind) / self.fiber_diameter

    def xraxial(self, kind: str) -> float:
        """Periaxonal axial resistance per length (MOhm/cm)."""
        d = self.inner_diameter(kind)
        space = self.space_node if kind in ("node", "mysa") else self.space_internode
        area_cm2 = np.pi * ((d / 2 + space) ** 2 - (d / 2) ** 2) * 1e-8
        return self.rho_a / area_cm2 * 1e-6

    def check(self) -> None:
        for name in GEOMETRY_KEYS:
            check_positive(f"fiber.{name}", getattr(self, name))
        for name in ("axon_diameter", "node_diameter", "flut_diameter"):
            check_range(
                f"fiber.{name}",
                getattr(self, name),
                0.0,
                self.fiber_diameter,
                unit="um",
                lo_open=True,
            )
        if self.stin_length <= 0:
            raise ValueError(
                f"inconsistent MRG geometry: `fiber.node_spacing` = {self.node_spacing:g} um "
                f"leaves no room for the internode after the node ({self.node_length:g} um), "
                f"2 MYSA ({self.mysa_length:g} um) and 2 FLUT ({self.flut_length:g} um); "
                f"the spacing must exceed "
                f"{self.node_length + 2 * self.mysa_length + 2 * self.flut_length:g} um"
            )


#: every geometry and passive constant of a fibre besides its diameter: what a model
#: file's ``[fiber]`` table may set (each must be positive)
GEOMETRY_KEYS = tuple(f.name for f in fields(MRGGeometry) if f.name != "fiber_diameter")


def mrg_geometry(fiber_diameter: float, **overrides) -> MRGGeometry:
    """The geometry of a fibre of ``fiber_diameter`` um, interpolated linearly between the
    rows of :data:`MRG_TABLE` (lamellae as a real number); ``overrides`` replace any field
    (e.g. ``node_spacing``). Diameters outside 5.7-16 um are refused."""
    lo, hi = MRG_TABLE[0, 0], MRG_TABLE[-1, 0]
    check_range("fiber.diameter", fiber_diameter, lo, hi, unit="um")
    row = {
        c: float(np.interp(fiber_diameter, MRG_TABLE[:, 0], MRG_TABLE[:, j]))
        for j, c in enumerate(MRG_COLUMNS)
    }
    row.update(overrides)
    geo = MRGGeometry(**row)
    geo.check()
    return geo


def mrg_sections(geo: MRGGeometry, nodes: int, ends: str = "node") -> list[Section]:
    """The sections of an axon with ``nodes`` nodes.

    ``ends = "node"`` (the published model): node[0] is the root and the axon ends at
    node[nodes-1]. ``ends = "internode"``: the segment also has half an internode beyond
    each end node, so that each sealed end lies in the middle of an internode. There a
    sealed end is the plane of mirror symmetry of an infinitely long, uniformly affected
    axon: a segment cut out of a long nerve (all of it under a cuff, say) then has no
    end effects, whereas a sealed end at a node leaves that node with half its usual
    electrotonic load and makes it the first to fire when the axon is depolarised.
    Numbering is the published one in both cases (internode i follows node[i]: mysa[2i]
    ... mysa[2i+1]); the half internode after node[N-1] is the first half of internode
    N-1, and the half before node[0] is named as the second half of an internode N, as
    if the segment repeated periodically (stin[6N+3..6N+5], flut[2N+1], mysa[2N+1]).
    """
    nodes = check_int("fiber.nodes", nodes, 2, 10_000)
    if ends not in ("node", "internode"):
        raise ValueError(f"`fiber.ends` = {ends!r} is not one of: node, internode")
    lam2 = 2.0 * geo.lamellae
    lengths = {
        "node": geo.node_length,
        "mysa": geo.mysa_length,
        "flut": geo.flut_length,
        "stin": geo.stin_length,
    }

    def section(kind: str, index: int, parent: str | None) -> Section:
        r = geo.ratio(kind)
        if kind == "node":
            return Section(
                f"node[{index}]",
                lengths[kind],
                geo.node_diameter,
                1,
                geo.rho_a,
                geo.cm,
                parent=parent,
                xraxial=geo.xraxial(kind),
                xg=NODE_XG,
                xc=0.0,
            )
        return Section(
            f"{kind}[{index}]",
            lengths[kind],
            geo.fiber_diameter,
            1,
            geo.rho_a / r**2,
            geo.cm * r,
            parent=parent,
            xraxial=geo.xraxial(kind),
            xg=geo.myelin_g / lam2,
            xc=geo.myelin_cm / lam2,
        )

    def internode(i: int) -> list[tuple[str, int]]:
        return [
            ("mysa", 2 * i),
            ("flut", 2 * i),
            *(("stin", 6 * i + k) for k in range(6)),
            ("flut", 2 * i + 1),
            ("mysa", 2 * i + 1),
        ]

    order: list[tuple[str, int]] = []
    if ends == "internode":
        order += internode(nodes - 1 + 1)[5:]  # the second half of a periodic internode N
    for i in range(nodes - 1):
        order += [("node", i), *internode(i)]
    order.append(("node", nodes - 1))
    if ends == "internode":
        order += internode(nodes - 1)[:5]
    secs: list[Section] = []
    for kind, idx in order:
        secs.append(section(kind, idx, secs[-1].name if secs else None))
    return secs
