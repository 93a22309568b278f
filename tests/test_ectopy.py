"""The ectopic pacemaker of a chronic lesion (models/compression/stenosis_single.toml).

Calibration (stated in the model file): retracted paranodes at the lesion edges whose
bared axolemma carries transient Na channels at 8% of the nodal density are quiet at rest
and fire repetitively once the lesion is depolarised by a few mV (raised [K] and leak
reversals, as ischaemia does), faster the deeper the depolarisation (no block up to
+14 mV); motor axons need more depolarisation than sensory axons (sensory axons carry
more persistent Na and HCN and rest more depolarised; Burke, Howells & Kiernan 2017).
An acute retraction (no Na channels on the bared membrane) does not fire. Reference behaviour: Kapoor, Li & Smith 1997 (persistent
Na drives ectopic trains), Coggan et al. 2010 (the Na/leak ratio of a demyelinated
segment switches it from quiet to spontaneous firing).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from neurosim.compression.damage import MyelinDamage
from neurosim.compression.load import load_compression
from neurosim.simulate import CableSimulation, Protocol
from neurosim.simulate.ionic import ion_pools
from neurosim.simulate.root import root_axon

STENOSIS = "models/compression/stenosis_single.toml"


def _spikes(kind: str, shift: float, nav: float | None = None) -> np.ndarray:
    """Spike counts at node[1], node[10], node[19] in 300 ms of a 21-node axon with the
    chronic lesion of the stenosis file, reversals of K and leak raised by ``shift`` mV
    over the 10 mm lesion."""
    model = root_axon(f"models/axon/{kind}.toml", 21).model
    cf = load_compression(STENOSIS, {"lesion.level": [{"node": 10, "length": "10 mm"}]})
    law = cf.damage if nav is None else dataclasses.replace(cf.damage, exposed_nav=nav)
    drv = cf.driver()
    drv.bind(model, ion_pools(model), 1)
    sim = CableSimulation(
        model, Protocol(tstop=300.0, dt=0.025, detect=("node[1]", "node[10]", "node[19]"))
    )
    sim.initialize()
    MyelinDamage(law, sim, model, drv.edges).apply(np.full((1, len(drv.edges)), law.initial))
    morph = model.morphology
    pos = morph.geometry.position
    centre = pos[morph.compartment("node[10]")]
    in_lesion = np.abs(pos - centre) <= 5000.0
    k = sim.k
    for _pl, _mech, cur, ion, sl in k.currents:
        idx = np.arange(sl.start, sl.stop)
        if ion == "k" or (ion is None and cur in ("il", "i")):
            k.erev[:, idx[in_lesion[k.site_comp[idx]]]] += shift
    sim.advance(sim.protocol.n_steps)
    return sim.result().spike_counts[0]


def test_the_stenosis_file_describes_a_chronic_lesion():
    d = load_compression(STENOSIS).damage
    assert d.initial == 1.0 and d.exposed_nav == pytest.approx(0.08) and d.exposed_nap == 0.0


@pytest.mark.parametrize("kind", ["human_sensory", "human_motor"])
def test_chronic_lesion_is_quiet_at_rest(kind):
    assert _spikes(kind, 0.0).sum() == 0


def test_depolarised_chronic_lesion_fires_sensory_axons_both_ways():
    n4 = _spikes("human_sensory", 4.0)
    # a train (measured 34 in 300 ms) that reaches both ends of the segment
    assert n4[0] >= 10 and n4[2] >= 10, n4
    n10 = _spikes("human_sensory", 10.0)
    assert n10[0] > n4[0], "deeper depolarisation, faster firing (no block)"


def test_motor_axons_need_more_depolarisation_and_acute_lesions_stay_quiet():
    assert _spikes("human_motor", 4.0).sum() == 0
    assert _spikes("human_motor", 10.0)[0] >= 10
    assert _spikes("human_sensory", 4.0, nav=0.0).sum() == 0
