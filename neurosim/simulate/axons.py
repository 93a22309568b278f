"""Builder of myelinated axon models (``kind = "mrg"``) from a model file.

The ``[fiber]`` table gives the fibre diameter (the rest of the geometry is interpolated
from the MRG table unless given) and the passive constants; ``[mechanisms.*]`` tables
insert channels by section type (``where = "node[*]"``, ``"mysa[*]"``, ``"flut[*]"``,
``"stin[*]"``). Conductance densities are given per area of axolemma, as in the papers;
the builder rescales those of paranodal and internodal sections by innerD/fibreD,
because those sections carry the fibre diameter (see :mod:`neurosim.morphology.mrg`).
"""

from __future__ import annotations

import numpy as np

from neurosim.modelfile import Field, read_table
from neurosim.morphology import Morphology
from neurosim.morphology.mrg import GEOMETRY_KEYS, mrg_geometry, mrg_sections
from neurosim.simulate.load import insert_mechanisms, register_builder
from neurosim.simulate.model import CableModel

__all__ = ["FIBER_FIELDS", "build_mrg"]

_POS = {"lo": 0.0, "lo_open": True}
FIBER_FIELDS = {
    "diameter": Field("length", doc="fibre diameter, 5.7-16 um (MRG table)"),
    "nodes": Field("int", default=41, lo=2, hi=10_000, doc="nodes of Ranvier"),
    "ends": Field(
        "str",
        default="node",
        choices=("node", "internode"),
        doc="end at nodes (published), or mid-internode (no end effects)",
    ),
    # geometry: interpolated from the MRG table unless given
    "axon_diameter": Field("length", default=None, **_POS, doc="inner axon diameter"),
    "node_diameter": Field("length", default=None, **_POS, doc="node (= MYSA) diameter"),
    "flut_diameter": Field("length", default=None, **_POS, doc="FLUT diameter"),
    "node_spacing": Field("length", default=None, **_POS, doc="node-to-node distance"),
    "flut_length": Field("length", default=None, **_POS, doc="FLUT length"),
    "lamellae": Field("float", default=None, **_POS, doc="myelin lamellae"),
    # passive constants (McIntyre et al. 2002; SCIENCE.md section 3)
    "node_length": Field("length", default=1.0, **_POS, doc="node length"),
    "mysa_length": Field("length", default=3.0, **_POS, doc="MYSA length"),
    "space_node": Field("length", default=0.002, **_POS, doc="periaxonal space, node/MYSA"),
    "space_internode": Field("length", default=0.004, **_POS, doc="periaxonal space, FLUT/STIN"),
    "rho_a": Field("resistivity", default=70.0, **_POS, doc="axoplasmic resistivity"),
    "cm": Field("capacitance_density", default=2.0, **_POS, doc="axolemma capacitance"),
    "myelin_cm": Field(
        "capacitance_density", default=0.1, **_POS, doc="capacitance per lamella membrane"
    ),
    "myelin_g": Field(
        "conductance_density", default=0.001, **_POS, doc="conductance per lamella membrane"
    ),
}


@register_builder("mrg")
def build_mrg(cfg: dict, m: dict) -> CableModel:
    """An MRG-type double-cable axon from ``[fiber]`` and ``[mechanisms.*]``."""
    f = read_table(cfg.get("fiber", {}), FIBER_FIELDS, "fiber")
    geo = mrg_geometry(f["diameter"], **{k: f[k] for k in GEOMETRY_KEYS if f[k] is not None})
    morph = Morphology(mrg_sections(geo, f["nodes"], f["ends"]))
    model = CableModel(
        m["name"],
        morph,
        celsius=m["celsius"],
        v_init=m["v_init"],
        rest=m["rest"],
        gating_shift=m["gating_shift"],
        description=m["description"],
        citation=m["citation"],
        metadata={"fiber": geo, "nodes": f["nodes"]},
    )
    insert_mechanisms(model, cfg.get("mechanisms", {}))
    # densities are per axolemma area: rescale onto the fibre-diameter sections
    ratio = np.ones(morph.n)
    for kind in ("mysa", "flut", "stin"):
        ratio[morph.compartments(f"{kind}[*]")] = geo.ratio(kind)
    for pl in model.placements:
        for p in pl.mechanism.params:
            if p.dimension == "conductance_density":
                pl.values[p.name] = pl.value(p.name) * ratio[pl.comps]
    return model
