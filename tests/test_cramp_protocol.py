"""Electrically induced cramps in the simulated pool (SCIENCE.md section 6).

Trains of nerve stimulation (2 s, from rest), cramp = force > 2% of maximum for > 1 s
after the train without voluntary drive (neurosim.muscle.cramp). Runs the compiled
network many times: ``slow``.
"""

from __future__ import annotations

import pytest

from neurosim.muscle.params import load_muscle_model
from neurosim.simulate.spinal import (
    DEFAULT_MUSCLE,
    NerveStimulation,
    TendonStimulation,
    simulate_spinal,
)
from neurosim.spinal.params import load_spinal_model

pytestmark = pytest.mark.slow

ROOT = DEFAULT_MUSCLE.parents[2]
NORMAL = ROOT / "models" / "spinal" / "motoneuron_pool.toml"
PRONE = ROOT / "models" / "spinal" / "motoneuron_pool_cramp_prone.toml"
PRE, TRAIN, POST = 500.0, 2000.0, 4000.0


def _trial(spinal, f, blocked=False, tendon=None):
    stim = NerveStimulation(trains=((PRE, PRE + TRAIN, f),), blocked=blocked)
    return simulate_spinal(
        spinal,
        load_muscle_model(DEFAULT_MUSCLE),
        PRE + TRAIN + POST,
        stimulation=stim,
        tendon=tendon,
        seed=1,
    )


def _threshold(spinal, freqs):
    for f in freqs:
        r = _trial(spinal, f)
        if r.cramp.detected:
            return f, r
    return None, None


@pytest.fixture(scope="module")
def thresholds():
    freqs = [12.0, 14.0, 16.0, 18.0, 20.0, 22.0, 24.0, 26.0]
    normal = _threshold(load_spinal_model(NORMAL), freqs)
    prone = _threshold(load_spinal_model(PRONE), freqs)
    return normal, prone


def test_cramp_threshold_frequency(thresholds):
    (f_normal, _), (f_prone, _) = thresholds
    print(f"\ncramp threshold frequency: normal {f_normal} Hz, cramp-prone {f_prone} Hz")
    # SCIENCE.md s.6 / issue 5: between 13 and 26 Hz (Miller & Knight 2009: 25.5 +/- 1.6
    # in others, 14.9 +/- 1.3 in cramp-prone people); 12 Hz is the first ladder step
    assert f_normal is not None and 13.0 <= f_normal <= 26.0
    assert f_prone is not None and 13.0 <= f_prone <= 26.0
    assert f_prone < f_normal


def test_cramp_discharge(thresholds):
    for f, r in thresholds:
        c = r.cramp
        print(
            f"\ncramp after {f} Hz: {c.rate_mean:.1f} +/- {c.rate_sd:.1f} pps over "
            f"{c.n_active_units} units, ISI CV {c.isi_cv_mean:.2f}, peak force "
            f"{100 * c.peak_force_fraction:.1f}% of max, duration {c.duration / 1e3:.2f} s"
        )
        assert c.n_active_units >= 10
        # Minetto et al. 2009: 14.5 +/- 5.1 pps; the mean over units within 1 SD
        assert 14.5 - 5.1 <= c.rate_mean <= 14.5 + 5.1
        # units differ (Minetto: range 6-25 pps): an SD of a few Hz
        assert 1.5 <= c.rate_sd <= 8.0
        # "interspike CV of tens of percent": Minetto report ~45%; the model gives ~20%
        # (see the issue note), so the bound checks tens of percent, not 45%
        assert 0.1 <= c.isi_cv_mean <= 0.7


def test_blocked_nerve_does_not_cramp():
    # block between stimulation site and cord: only M-wave twitches remain, no spinal
    # loop, so no force outlasts the train even at the top of the protocol
    for path in (NORMAL, PRONE):
        r = _trial(load_spinal_model(path), 36.0, blocked=True)
        print(f"\nblocked nerve, {path.stem}, 36 Hz: cramp {r.cramp.detected}")
        assert not r.cramp.detected
        assert r.force_fraction[r.t > PRE + TRAIN + 500].max() < 0.005
        # nothing evoked reaches the cord: only the odd noise-driven spike (~1/s in
        # the whole pool at rest)
        assert len(r.mn_time) < 3 * (PRE + TRAIN + POST) / 1e3


def test_tendon_organ_stimulation_shortens_the_cramp(thresholds):
    (f, ref), _ = thresholds
    t0 = PRE + TRAIN + 1000.0
    r = _trial(load_spinal_model(NORMAL), f, tendon=TendonStimulation(((t0, t0 + 1000.0, 100.0),)))
    late = PRE + TRAIN + POST - 1000.0
    n_ref, n_gto = ref.rates(late, late + 1000.0).sum(), r.rates(late, late + 1000.0).sum()
    print(
        f"\ntendon stimulation at {f} Hz: cramp duration {ref.cramp.duration / 1e3:.2f} s -> "
        f"{(r.cramp.duration if r.cramp.detected else 0.0) / 1e3:.2f} s; pool spikes/s in the "
        f"last second {n_ref:.0f} -> {n_gto:.0f}"
    )
    # Khan & Burne 2007: tendon-organ input inhibits the cramp
    assert ref.cramp.detected
    if r.cramp.detected:
        assert r.cramp.duration < 0.7 * ref.cramp.duration
    assert n_gto < 0.5 * n_ref


MODELS = ROOT / "models"


@pytest.mark.parametrize(
    "label, spinal, muscle, f, normal_cramps",
    [
        # issue 6: cramps come more readily with low Mg and Ca and with fatigue (a train
        # below the normal threshold cramps), less readily on quinine (a train above it
        # does not). Thresholds at seed 1 in 1 Hz steps
        # (experiments/cramp_threshold_modifiers.toml): normal 23 Hz, low Mg/Ca 14 Hz,
        # fatigue 21 Hz, quinine 24 Hz.
        ("low Mg/Ca", "motoneuron_pool_low_mg_ca", "fuglevand_1993", 14.0, False),
        ("fatigue", "motoneuron_pool", "fuglevand_1993_fatigued", 21.0, False),
        ("quinine", "motoneuron_pool_quinine", "fuglevand_1993", 23.0, True),
    ],
)
def test_modifiers_move_the_cramp_threshold(label, spinal, muscle, f, normal_cramps):
    stim = NerveStimulation(trains=((PRE, PRE + TRAIN, f),))

    def run(spinal_file, muscle_file):
        return simulate_spinal(
            load_spinal_model(MODELS / "spinal" / f"{spinal_file}.toml"),
            load_muscle_model(MODELS / "muscle" / f"{muscle_file}.toml"),
            PRE + TRAIN + POST,
            stimulation=stim,
            seed=1,
        ).cramp

    normal, modified = run("motoneuron_pool", "fuglevand_1993"), run(spinal, muscle)
    print(f"\n{f} Hz: normal cramp {normal.detected}, {label} cramp {modified.detected}")
    assert normal.detected is normal_cramps
    assert modified.detected is not normal_cramps


def test_a_self_sustained_cramp_ends_on_its_own():
    # A strong train (30 Hz, 2 s) leaves the pool in self-sustained (plateau) firing.
    # The slow outward current of the [pump] table (late adaptation, the Na/K pump's
    # ultraslow AHP) ends it within tens of seconds, as cramps end (Allen & Kirby 2012:
    # seconds to minutes); without it nothing stops the plateau.
    duration = 60e3
    stim = NerveStimulation(trains=((PRE, PRE + TRAIN, 30.0),))
    base = load_spinal_model(NORMAL, {"simulation": {"max_duration": "60 s"}})
    muscle = load_muscle_model(DEFAULT_MUSCLE)
    out = {}
    for label, spinal in (
        ("with", base),
        ("without", base.with_overrides({"pump": {"current_per_spike": "0 uA/cm2"}})),
    ):
        r = simulate_spinal(spinal, muscle, duration, stimulation=stim, seed=1)
        out[label] = (r.cramp, r.rates(duration - 10e3, duration).sum())
        c = out[label][0]
        print(
            f"\n30 Hz train, {label} the slow outward current: cramp {c.detected}, duration "
            f"{c.duration / 1e3:.1f} s, {c.rate_mean:.1f} pps; pool spikes/s in the last 10 s "
            f"{out[label][1]:.0f}"
        )
    with_pump, without = out["with"], out["without"]
    assert with_pump[0].detected and without[0].detected
    # measured: 19.2 s with, 57.2 s (to the end of the run) without (ratio 0.34); pool
    # spikes/s over the last 10 s 88 with, 732 without (ratio 0.12). The bounds leave
    # room for seed and CPU differences, and fail if the current stops ending the cramp.
    assert with_pump[0].duration < 0.5 * without[0].duration
    assert without[0].onset + without[0].duration > duration - 1e3
    assert with_pump[1] < 0.25 * without[1]
