"""Mechanical damage under sustained high pressure: paranodal myelin retraction.

Ochoa, Fowler & Gilliatt 1972 (J Anat 113:433; baboon, pneumatic tourniquet) found that
compression displaces paranodal myelin at the *edges* of the compressed zone: the node
is pulled towards the uncompressed nerve and the paranode on the side facing the
compression is invaginated into its neighbour, which leaves the axon of that paranode
(and of the juxtaparanode beyond it, with its fast K channels) bare. The centre of the
zone, where the pressure is uniform, is spared.

Damage law
----------
Each lesion edge has a damage variable ``D`` in [0, 1] (the fraction of the largest
possible retraction), growing with pressure above a threshold and faster after a fast
onset, never decreasing::

    dD/dt = k (1 - D),   k = rate * ((p - threshold) / (reference - threshold))**exponent
                              * (1 + (onset_gain - 1) * v / (v + onset_half))

with ``p`` the pressure above the surroundings and ``v`` the speed (mmHg/s) of the
latest rise (:meth:`PressureSchedule.onset_speed`). The calibration targets are
qualitative (pig cauda equina, 2 h of compression): 50 mmHg has no lasting effect at
either onset (Olmarker et al. 1990, Spine 15:416; Garfin et al. 1990), 100 and 200 mmHg
impair conduction in proportion to the pressure and more after a rapid (0.05-0.1 s) than
a slow (20 s) onset (Olmarker et al. 1990), with incomplete recovery after 200 mmHg
(Pedowitz et al. 1992, Spine 17:194). The defaults give ``D`` after 2 h of 0 at 50 mmHg,
0.135 (20 s onset) / 0.23 (0.1 s onset) at 100 mmHg and 0.55 / 0.75 at 200 mmHg (0.5 for
an infinitely slow onset: ``time_constant`` = 2 h / ln 2). On the 10 um
MRG axon (models/axon/mrg.toml) with a 10 mm level and the 2.5 mm edge zone (two nodes
per edge) the conduction velocity across the lesion falls from 51 m/s (D = 0) to 33
(0.2), 20 (0.5) and 9 m/s (0.74), and conduction blocks at D = 0.75
(tests/test_damage.py). Myelin retraction does not recover on the simulated time
scale (remyelination of the exposed paranodes takes weeks), so ``D`` never decreases;
blood flow and ion concentrations recover after release.

Effect on the cable (MRG double cable)
--------------------------------------
At an edge with damage ``D``, every node within ``edge_width`` inside the zone is
affected alike; at each, the retraction length is ``D retraction`` (default: the MYSA
and FLUT lengths), exposing fractions ``f_mysa`` and
``f_flut`` of the lesion-facing paranode (MYSA first). The exposed axolemma becomes
part of the node, as in models of paranodal retraction as node lengthening (Babbs &
Shi 2013, PLoS One 8:e67767):

* node capacitance rises by the exposed axolemma (``cm`` x area, inner diameter) and
  its leak by ``exposed_leak`` x area; transient (persistent) Na channels at
  ``exposed_nav`` (``exposed_nap``) x the nodal density come with it in a chronic lesion
  (none in an acute one);
* the MYSA and FLUT compartments lose the exposed part of their axolemma (capacitance
  and conductances x ``1 - f``); channels of the exposed part that the node also carries
  (the juxtaparanodal fast K of the human models, ``human_kf``) move to the node's
  sites, the others (leak, HCN, internodal slow K) are not modelled on the bared
  membrane;
* the periaxonal space of the retracted part widens (``widening`` x), lowering the
  periaxonal axial resistance of its links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.validate import check_positive, check_range

__all__ = ["DamageLaw", "MyelinDamage"]


@dataclass(frozen=True)
class DamageLaw:
    """Paranodal retraction at lesion edges: growth law and cable parameters.

    Parameters
    ----------
    threshold : float
        Pressure above the surroundings below which no damage accrues (mmHg).
    reference : float
        Pressure at which the rate is ``rate`` (slow onset) (mmHg).
    time_constant : float
        ``1 / rate`` at ``reference`` with a slow onset (ms).
    exponent : float
        Steepness of the pressure dependence.
    onset_gain : float
        Rate multiplier for an instantaneous onset (>= 1).
    onset_half : float
        Onset speed giving half the extra rate (mmHg/s).
    edge_width : float
        Width of the damaged zone inside each edge (um).
    retraction : float or None
        Largest retraction (um); None: the MYSA + FLUT length of the fibre.
    exposed_leak : float
        Leak of exposed paranodal axolemma (S/cm2).
    widening : float
        Periaxonal space of retracted paranode relative to intact (>= 1).
    initial : float
        Damage ``D`` at the start of a run, in [0, 1]: a chronically compressed root
        (years of stenosis) starts with retracted paranodes at its lesion edges.
    exposed_nav : float
        Transient Na channel density of the exposed axolemma relative to the node's
        own, >= 0. 0 for an acute retraction (no channels come with the
        bared membrane); > 0 for chronic lesions, whose bared axolemma acquires Na
        channels (Nav redistribution after demyelination: England et al. 1990, PNAS
        87:4049; Craner et al. 2004, PNAS 101:8168), the substrate of ectopic firing
        (Kapoor, Li & Smith 1997; Coggan et al. 2010).
    exposed_nap : float
        Persistent Na density of the exposed axolemma relative to the node's own, >= 0.
    """

    threshold: float = 50.0
    reference: float = 200.0
    time_constant: float = 7200e3 / math.log(2.0)
    exponent: float = 1.5
    onset_gain: float = 2.0
    onset_half: float = 50.0
    edge_width: float = 2500.0
    retraction: float | None = None
    exposed_leak: float = 0.001
    widening: float = 10.0
    initial: float = 0.0
    exposed_nav: float = 0.0
    exposed_nap: float = 0.0

    def __post_init__(self) -> None:
        check_range("damage.threshold", self.threshold, 0.0, unit="mmHg")
        check_range("damage.reference", self.reference, self.threshold, unit="mmHg", lo_open=True)
        check_positive("damage.time_constant", self.time_constant, "ms")
        check_positive("damage.exponent", self.exponent)
        check_range("damage.onset_gain", self.onset_gain, 1.0)
        check_positive("damage.onset_half", self.onset_half, "mmHg/s")
        check_positive("damage.edge_width", self.edge_width, "um")
        if self.retraction is not None:
            check_positive("damage.retraction", self.retraction, "um")
        check_range("damage.exposed_leak", self.exposed_leak, 0.0, unit="S/cm2")
        check_range("damage.widening", self.widening, 1.0)
        check_range("damage.initial", self.initial, 0.0, 1.0, unit="")
        check_range("damage.exposed_nav", self.exposed_nav, 0.0, unit="")
        check_range("damage.exposed_nap", self.exposed_nap, 0.0, unit="")

    def onset_factor(self, speed) -> np.ndarray:
        """Rate multiplier for an onset of ``speed`` mmHg/s (1 at 0, ``onset_gain`` at inf)."""
        v = np.asarray(speed, dtype=float)
        with np.errstate(invalid="ignore"):
            frac = np.where(np.isinf(v), 1.0, v / (v + self.onset_half))
        return 1.0 + (self.onset_gain - 1.0) * frac

    def rate(self, pressure, speed=0.0) -> np.ndarray:
        """Damage rate (1/ms) at pressure above the surroundings ``pressure`` (mmHg)."""
        p = np.asarray(pressure, dtype=float)
        x = np.clip((p - self.threshold) / (self.reference - self.threshold), 0.0, None)
        return x**self.exponent / self.time_constant * self.onset_factor(speed)

    def advance(self, damage, mean_rate, dt: float) -> np.ndarray:
        """``D`` after ``dt`` ms at a constant rate (exact; never decreases)."""
        d = np.asarray(damage, dtype=float)
        return 1.0 - (1.0 - d) * np.exp(-np.asarray(mean_rate) * dt)


class MyelinDamage:
    """Binds a :class:`DamageLaw` to the kernel arrays of an MRG-type cable batch.

    Parameters
    ----------
    law : DamageLaw
    sim : CableSimulation
        Its kernel arrays (``sim.k``) are changed in place by :meth:`apply`.
    model : CableModel
        The model of member 0 (for the fibre geometry, ``metadata["fiber"]``).
    edges : list of Edge
        From :meth:`Lesion.edges`.
    """

    def __init__(self, law: DamageLaw, sim, model, edges):
        self.law = law
        k = sim.k
        morph = sim.morphology
        geo = model.metadata.get("fiber") if hasattr(model, "metadata") else None
        names = set(morph.names)
        if geo is None or not k.double or "node[0]" not in names or "mysa[0]" not in names:
            raise ValueError(
                "myelin damage needs an MRG-type double-cable axon (sections node[i], mysa[j], "
                "flut[j] and a [fiber] table); this model has none"
            )
        self.sim = sim
        self.edges = list(edges)
        self.geo = geo
        n_nodes = sum(1 for s in morph.names if s.startswith("node["))
        pos = k.position[0]  # lesion geometry follows member 0 (one morphology per driver)
        node_comp = np.array([morph.compartment(f"node[{i}]") for i in range(n_nodes)])
        node_pos = pos[node_comp]
        retr = law.retraction if law.retraction is not None else geo.mysa_length + geo.flut_length
        self.retraction = float(retr)
        # current of every site
        site_cur = np.empty(k.site_comp.shape[0], dtype=np.int64)
        for c in range(len(k.cur_ptr) - 1):
            site_cur[k.cur_ptr[c] : k.cur_ptr[c + 1]] = c
        gated = np.diff(k.cur_gate_ptr) > 0
        is_leak = np.array(
            [k.currents[c][3] is None and not gated[c] for c in site_cur], dtype=bool
        )
        sites_at = {}
        for s, c in enumerate(k.site_comp):
            sites_at.setdefault(int(c), []).append(s)

        self.entries = []
        for e, edge in enumerate(self.edges):
            d = edge.inward * (node_pos - edge.position)
            for i in np.flatnonzero((d >= 0) & (d < law.edge_width)):
                i = int(i)
                j = 2 * i if edge.inward > 0 else 2 * i - 1
                if j < 0 or f"mysa[{j}]" not in names or f"flut[{j}]" not in names:
                    continue
                nc = int(node_comp[i])
                mc = morph.compartment(f"mysa[{j}]")
                fc = morph.compartment(f"flut[{j}]")
                node_sites = sites_at.get(nc, [])
                node_leak = [s for s in node_sites if is_leak[s]]
                node_na = [s for s in node_sites if k.currents[site_cur[s]][3] == "na"]
                node_nap = [s for s in node_na if "nap" in k.currents[site_cur[s]][2]]
                node_na = [s for s in node_na if s not in node_nap]
                if not node_leak:
                    raise ValueError(f"node[{i}] has no leak current for the exposed membrane")
                node_key = {
                    (k.currents[site_cur[s]][1], k.currents[site_cur[s]][2]): s for s in node_sites
                }
                para = []
                for comp in (mc, fc):
                    # channels the node also carries move to it; the rest of the
                    # bared membrane's conductances (leak, HCN, internodal slow K) go
                    leak_s, moved = [], []
                    for s in sites_at.get(comp, []):
                        key = (k.currents[site_cur[s]][1], k.currents[site_cur[s]][2])
                        if key in node_key and not is_leak[s]:
                            moved.append((s, node_key[key]))
                        else:
                            # leaks, and channels the node does not carry, shrink with
                            # the covered membrane
                            leak_s.append(s)
                    para.append((comp, np.array(leak_s, dtype=np.int64), moved))
                self.entries.append(
                    {
                        "edge": e,
                        "node": i,
                        "node_comp": nc,
                        "node_leak": np.array(node_leak, dtype=np.int64),
                        "node_na": np.array(node_na, dtype=np.int64),
                        "node_nap": np.array(node_nap, dtype=np.int64),
                        "mysa": para[0],
                        "flut": para[1],
                        "mysa_name": f"mysa[{j}]",
                        "flut_name": f"flut[{j}]",
                    }
                )
        # periaxonal half resistances (MOhm) of every compartment, for the link scaling
        self.rx_half = np.zeros(k.n)
        for sec in morph.sections:
            s0 = morph.sec_start[sec.name]
            self.rx_half[s0 : s0 + sec.nseg] = sec.half_resistance_x()
        self.parent = k.parent
        touched = set()
        for en in self.entries:
            touched.update((en["node_comp"], en["mysa"][0], en["flut"][0]))
        self.comps = np.array(sorted(touched), dtype=np.int64)
        # links whose resistance changes: those of the paranode compartments and of their
        # children (the link of compartment c joins c to its parent)
        links = set()
        for en in self.entries:
            for c in (en["mysa"][0], en["flut"][0]):
                links.add(c)
                links.update(int(x) for x in np.flatnonzero(self.parent == c))
        self.links = np.array(sorted(links), dtype=np.int64)
        sites = set()
        for en in self.entries:
            sites.update(int(x) for x in en["node_leak"])
            sites.update(int(x) for x in en["node_na"])
            sites.update(int(x) for x in en["node_nap"])
            for _comp, leak_s, moved in (en["mysa"], en["flut"]):
                sites.update(int(x) for x in leak_s)
                for a, b in moved:
                    sites.update((a, b))
        self.sites = np.array(sorted(sites), dtype=np.int64)
        self.cap0 = k.cap.copy()
        self.gbar0 = k.gbar.copy()
        self.gxa0 = k.gxa.copy()
        self.n_edges = len(self.edges)
        #: the damage last applied, (B, E)
        self.current = np.zeros((k.B, self.n_edges))

    @property
    def nodes(self) -> list[int]:
        """Indices of the nodes affected (one entry per node and edge)."""
        return [en["node"] for en in self.entries]

    def exposure(self, damage) -> tuple[np.ndarray, np.ndarray]:
        """Exposed fractions of MYSA and FLUT per entry, each (B, entries)."""
        D = np.asarray(damage, dtype=float)
        fm, ff = [], []
        Lm, Lf = self.geo.mysa_length, self.geo.flut_length
        for en in self.entries:
            length = D[:, en["edge"]] * self.retraction
            fm.append(np.clip(length / Lm, 0.0, 1.0))
            ff.append(np.clip((length - Lm) / Lf, 0.0, 1.0))
        B = D.shape[0]
        if not fm:
            return np.zeros((B, 0)), np.zeros((B, 0))
        return np.stack(fm, axis=1), np.stack(ff, axis=1)

    def apply(self, damage) -> None:
        """Set the kernel arrays for damage ``damage`` (B, E) in [0, 1] (from intact)."""
        k = self.sim.k
        D = np.asarray(damage, dtype=float)
        if D.shape != (k.B, self.n_edges):
            raise ValueError(f"damage has shape {D.shape}; expected {(k.B, self.n_edges)}")
        check_range("damage", D, 0.0, 1.0)
        self.current = D.copy()
        if not self.entries:
            return
        geo = self.geo
        cm = geo.cm
        k.cap[:, self.comps] = self.cap0[:, self.comps]
        k.gbar[:, self.sites] = self.gbar0[:, self.sites]
        k.gxa[:, self.links] = self.gxa0[:, self.links]
        fm, ff = self.exposure(D)
        scale_rx = np.ones((k.B, k.n))
        area_m = np.pi * geo.node_diameter * geo.mysa_length
        area_f = np.pi * geo.flut_diameter * geo.flut_length
        w = self.law.widening
        for j, en in enumerate(self.entries):
            f_m, f_f = fm[:, j], ff[:, j]
            area = area_m * f_m + area_f * f_f  # um2 of exposed axolemma
            nc = en["node_comp"]
            k.cap[:, nc] += cm * area * 1e-5
            k.gbar[:, en["node_leak"]] += (
                self.law.exposed_leak * area * 1e-2 / len(en["node_leak"])
            )[:, None]
            node_area = np.pi * geo.node_diameter * geo.node_length
            for sites_na, rel in (
                (en["node_na"], self.law.exposed_nav),
                (en["node_nap"], self.law.exposed_nap),
            ):
                if rel > 0 and sites_na.size:
                    # Na channels on the bared axolemma at a fraction of the nodal density
                    gain = rel * area / node_area
                    k.gbar[:, sites_na] += gain[:, None] * self.gbar0[:, sites_na]
            for (comp, leak_s, moved), f in ((en["mysa"], f_m), (en["flut"], f_f)):
                keep = 1.0 - f
                k.cap[:, comp] *= keep
                if leak_s.size:
                    k.gbar[:, leak_s] *= keep[:, None]
                for s_para, s_node in moved:
                    k.gbar[:, s_node] += f * self.gbar0[:, s_para]
                    k.gbar[:, s_para] *= keep
                scale_rx[:, comp] = np.minimum(scale_rx[:, comp], 1.0 - f + f / w)
        # periaxonal links: each half resistance scaled by its compartment's widening
        for c in self.links:
            p = self.parent[c]
            r0 = self.rx_half[c] + self.rx_half[p]
            r = self.rx_half[c] * scale_rx[:, c] + self.rx_half[p] * scale_rx[:, p]
            k.gxa[:, c] = self.gxa0[:, c] * r0 / r

    def describe(self) -> list[dict]:
        """JSON-ready list of the affected nodes and paranodes."""
        return [
            {
                "edge": en["edge"],
                "node": en["node"],
                "paranode": [en["mysa_name"], en["flut_name"]],
            }
            for en in self.entries
        ]
