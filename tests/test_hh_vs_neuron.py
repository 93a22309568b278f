"""Hodgkin-Huxley cable and tree against NEURON 9 references (tests/data/hh_*.npz).

The references come from tests/reference/hh_cable_neuron.py (NEURON's built-in ``hh``
with exact rates, ``usetable_hh = 0``). neurosim uses the same discretisation (segment
centres, currents at t + dt/2 with frozen gates, exponential-Euler gates, IClamp on when
the step midpoint is in [delay, delay + dur)), so at the same dt the traces agree to
round-off. Every comparison asserts the issue's requirement and, separately, a tight
bound at the round-off level so that a change of discretisation cannot hide under the
loose one. The measured numbers are in the assertion messages.

Measured against NEURON 9.0.2 (worst site RMS / max |dv| in mV; worst spike-time
difference over every segment in ms; worst AP-peak difference in mV; CV relative):

=============  =======  =======  =======  =======  =======
case           RMS      max      spike    peak     CV
=============  =======  =======  =======  =======  =======
hh_cable_be    2.5e-12  3.4e-11  1.8e-13  1.4e-12  6.9e-15
hh_cable_cn    1.1e-12  1.8e-11  1.0e-13  1.8e-12  2.7e-15
hh_cable_warm  9.7e-12  1.5e-10  1.9e-13  1.7e-12  7.2e-15
hh_tree_be     2.5e-12  2.8e-11  4.4e-14  1.0e-12  6.9e-15
=============  =======  =======  =======  =======  =======
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import HH_CABLE_TOML, ROOT, Reference, load_reference

from neurosim.channels import get_mechanism
from neurosim.morphology import Morphology, Section
from neurosim.simulate import CableModel, CableResult, Protocol, Stimulus, simulate_cable
from neurosim.simulate.load import load_model

pytestmark = pytest.mark.usefixtures("fp_raise")

CASES = ["hh_cable_be", "hh_cable_cn", "hh_cable_warm", "hh_tree_be"]

# Issue requirements
RMS_ISSUE = 0.5  # mV, per recording site
CV_ISSUE = 0.01  # relative
# Tight bounds: same discretisation, so only float64 round-off separates the two codes
# (different exp implementations: neurosim's vexp is within 2 ulp of libm's). Round-off
# of 1e-16 is amplified near threshold by the regenerative Na current; measured
# differences are <= 1e-11 mV RMS, 1.5e-10 mV max, 2e-13 ms in spike times (table above).
# The bounds leave ~three orders of magnitude for other compilers / FMA use.
RMS_TIGHT = 1e-8  # mV
MAX_TIGHT = 1e-7  # mV
SPIKE_TIGHT = 1e-9  # ms
CV_TIGHT = 1e-9  # relative
# AP peak: both codes take the largest sample of the first excursion above 0 mV on the
# same time grid. 0.1 mV is the validation plan's tolerance for peaks (a spike-shape
# change smaller than this is invisible in any figure); the tight bound is MAX_TIGHT,
# since a peak is one sample of the trace
PEAK_LOOSE = 0.1  # mV


def _site(label: str, nseg: dict[str, int]) -> str:
    """NEURON label ``"cable[25]"`` (centre of segment 25) -> neurosim ``"cable(0.255)"``."""
    m = re.fullmatch(r"(\w+)\[(\d+)\]", label)
    assert m, label
    sec, i = m.group(1), int(m.group(2))
    return f"{sec}({(i + 0.5) / nseg[sec]!r})"


def _model_for(ref: Reference) -> tuple[CableModel, Protocol]:
    """The neurosim model and protocol of one reference case, from its meta record."""
    meta = ref.meta
    sections = meta["sections_um"]
    nseg = {name: s["nseg"] for name, s in sections.items()}
    stim = meta["stimulus"]
    method = "crank_nicolson" if meta["secondorder"] == 2 else "backward_euler"
    cv = tuple(_site(s, nseg) for s in meta["cv_between"])
    record = tuple(_site(s, nseg) for s in ref.site_labels)
    detect = tuple(_site(s, nseg) for s in ref.spike_sites)
    if list(sections) == ["cable"]:
        # the shipped model file, with the case's temperature, method and duration
        mf = load_model(
            HH_CABLE_TOML,
            {
                "model.celsius": f"{meta['celsius_degC']!r} degC",
                "protocol.method": method,
                "protocol.tstop": f"{meta['tstop_ms']!r} ms",
                "protocol.detect": list(detect),
            },
        )
        model, protocol = mf.model, mf.protocol
        sec = model.morphology.section("cable")
        geo = sections["cable"]
        # the model file is the reference model, not merely similar to it
        assert (sec.L, float(sec.diam[0]), sec.nseg) == (geo["L"], geo["diam"], geo["nseg"])
        assert (sec.Ra, sec.cm) == (meta["Ra_ohm_cm"], meta["cm_uF_per_cm2"])
        assert (model.v_init, protocol.dt) == (meta["v_init_mV"], meta["dt_ms"])
        assert protocol.record == record and protocol.cv == cv
        (st,) = protocol.stimuli
        assert (st.site, st.delay, st.dur, st.amp) == (
            _site("cable[0]", nseg),
            stim["delay"],
            stim["dur"],
            stim["amp"],
        )
        return model, protocol
    # the branched tree, built directly: children's 0 end on the parent's 1 end
    secs = [
        Section(
            name,
            L=s["L"],
            diam=s["diam"],
            nseg=s["nseg"],
            Ra=meta["Ra_ohm_cm"],
            cm=meta["cm_uF_per_cm2"],
            parent=s["parent"],
        )
        for name, s in sections.items()
    ]
    model = CableModel(
        ref.name, Morphology(secs), celsius=meta["celsius_degC"], v_init=meta["v_init_mV"]
    )
    hh = {k.removesuffix("_hh"): v for k, v in meta["hh_S_per_cm2_and_mV"].items()}
    model.insert(get_mechanism("hh"), ena=meta["ena_mV"], ek=meta["ek_mV"], **hh)
    protocol = Protocol(
        tstop=meta["tstop_ms"],
        dt=meta["dt_ms"],
        stimuli=(
            Stimulus(f"{stim['section']}({stim['x']!r})", stim["delay"], stim["dur"], stim["amp"]),
        ),
        record=record,
        detect=detect,
        cv=cv,
        method=method,
    )
    return model, protocol


@pytest.fixture(scope="module", params=CASES)
def case(request) -> tuple[Reference, CableResult]:
    ref = load_reference(request.param)
    model, protocol = _model_for(ref)
    return ref, simulate_cable(model, protocol)


def test_time_grid_and_geometry(case):
    ref, res = case
    assert res.v.shape == (1, *ref.v.shape)
    np.testing.assert_allclose(res.t, ref.t, rtol=0, atol=1e-9)  # k*dt vs NEURON's t += dt
    # path distances (um) from the stimulated segment: the stimulus sits in the root's
    # first segment, so they are position differences; NEURON's h.distance to 1e-9 um
    stim_pos = res.spike_positions[0]
    np.testing.assert_allclose(
        res.spike_positions - stim_pos, ref.spike_site_distance_um, atol=1e-9
    )
    np.testing.assert_allclose(res.positions - stim_pos, ref.site_distance_um, atol=1e-9)


def test_traces(case):
    ref, res = case
    diff = res.v[0] - ref.v
    rms = np.sqrt(np.mean(diff**2, axis=1))
    worst = float(np.max(np.abs(diff)))
    msg = f"{ref.name}: RMS per site {np.array2string(rms, precision=3)} mV, max {worst:.3g} mV"
    assert np.all(rms < RMS_ISSUE), msg
    assert np.all(rms < RMS_TIGHT), msg
    assert worst < MAX_TIGHT, msg


def test_spike_times_at_every_segment(case):
    ref, res = case
    dt = ref.dt
    # same sites in the same order (positions are checked in test_time_grid_and_geometry)
    assert len(res.spike_sites) == len(ref.spike_sites)
    np.testing.assert_array_equal(res.spike_counts[0], ref.spike_counts)
    n = ref.spike_times.shape[1]
    ours = res.spike_times[0, :, :n]
    err = np.nanmax(np.abs(ours - ref.spike_times))
    msg = (
        f"{ref.name}: largest spike-time difference {err:.3g} ms over {len(ref.spike_sites)} sites"
    )
    # issue requirement: within one time step at every site
    assert err < dt, msg
    assert err < SPIKE_TIGHT, msg


def test_ap_peak_and_cv(case):
    ref, res = case
    ours = np.array([res.ap_peak(s) for s in res.sites])
    peak_err = float(np.max(np.abs(ours - ref.ap_peak)))
    cv = float(res.conduction_velocity()[0])
    cv_err = abs(cv / ref.cv_m_per_s - 1.0)
    msg = (
        f"{ref.name}: AP peaks {np.array2string(ours, precision=3)} mV (max diff "
        f"{peak_err:.3g}), CV {cv:.6f} vs {ref.cv_m_per_s:.6f} m/s (rel diff {cv_err:.3g})"
    )
    assert peak_err < PEAK_LOOSE, msg
    assert peak_err < MAX_TIGHT, msg
    assert cv_err < CV_ISSUE, msg
    assert cv_err < CV_TIGHT, msg
    assert res.cv_distance == pytest.approx(ref.meta["cv_distance_um"], abs=1e-9)


# --------------------------------------------------------------------------- the references


def _neuron_available() -> bool:
    return importlib.util.find_spec("neuron") is not None


@pytest.mark.slow
@pytest.mark.neuron
@pytest.mark.skipif(not _neuron_available(), reason="NEURON (optional peer) is not installed")
def test_reference_script_reproduces_stored_data(tmp_path, data_dir):
    script = ROOT / "tests" / "reference" / "hh_cable_neuron.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    for name in CASES:
        with (
            np.load(data_dir / f"{name}.npz", allow_pickle=False) as old,
            np.load(tmp_path / f"{name}.npz", allow_pickle=False) as new,
        ):
            assert sorted(old.files) == sorted(new.files), name
            for key in old.files:
                a, b = old[key], new[key]
                if key == "meta":
                    ma, mb = json.loads(str(a)), json.loads(str(b))
                    versions = (ma.pop("neuron_version"), mb.pop("neuron_version"))
                    ma.pop("command")
                    mb.pop("command")
                    assert ma == mb, f"{name}: meta differs (NEURON {versions})"
                elif a.dtype.kind == "f":
                    # bit-identical on the machine that wrote them (checked with 9.0.2);
                    # 1e-9 admits another libm/compiler's round-off (cf. RMS_TIGHT)
                    np.testing.assert_allclose(b, a, rtol=0, atol=1e-9, err_msg=f"{name}.{key}")
                else:
                    np.testing.assert_array_equal(b, a, err_msg=f"{name}.{key}")


def test_protocols_differ_between_cases():
    # guard against a case silently running another case's settings
    protos = {name: _model_for(load_reference(name))[1] for name in CASES}
    assert protos["hh_cable_cn"].method == "crank_nicolson"
    assert protos["hh_cable_be"].method == "backward_euler"
    assert protos["hh_cable_warm"].tstop == 30.0
    assert (
        dataclasses.replace(protos["hh_cable_be"], method="crank_nicolson") == protos["hh_cable_cn"]
    )
