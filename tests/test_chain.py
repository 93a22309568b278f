"""The whole chain: window tiling of root spikes, the sample-to-population mapping, the
scenario experiment (accelerated), bad input."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from neurosim.ectopic import Direction
from neurosim.experiments import run_experiment
from neurosim.simulate.chain import Segment, continuous_events, first_cramp, segment_input

ROOT = Path(__file__).resolve().parents[1]


def _group(kind, n, times, members, windows, cord=True, muscle=True):
    t = np.asarray(times, float)
    ev = SimpleNamespace(
        ectopic=np.ones(t.size, bool),
        member=np.asarray(members, int),
        time=t,
        reaches_cord=np.full(t.size, cord),
        reaches_muscle=np.full(t.size, muscle),
    )
    return SimpleNamespace(
        kind=kind, grade=np.ones(n), events=ev, ionic=SimpleNamespace(windows=np.asarray(windows))
    )


def test_window_spikes_stand_for_their_step():
    # one 10 ms window at t = 100 standing for a 40 ms step: its 2 spikes repeat 4 times
    g = _group("sensory", 1, [101.0, 105.0], [0, 0], [[100.0, 10.0, 40.0]])
    ev = continuous_events(g, 0.0, 1000.0)
    np.testing.assert_allclose(ev["time"], [101, 105, 111, 115, 121, 125, 131, 135])
    assert continuous_events(g, 120.0, 130.0)["time"].tolist() == [121.0, 125.0]
    assert continuous_events(g, 200.0, 300.0)["time"].size == 0


def test_each_sample_axon_stands_for_its_share_of_the_pool():
    windows = [[0.0, 10.0, 10.0], [10.0, 10.0, 10.0]]
    sens = _group("sensory", 2, [1.0, 2.0], [0, 1], windows, muscle=False)
    mot = _group("motor", 2, [3.0], [1], windows, cord=False)
    root = SimpleNamespace(groups=[mot, sens])
    ect = segment_input(root, Segment("s", 0.0, 20.0), n_units=6, n_ia=4, seed=1)
    fib = np.array(ect.fibre)
    idx = np.array(ect.index)
    # Ia afferents 0..3 each get one copy of their sample axon's spike
    assert sorted(idx[fib == "ia"].tolist()) == [0, 1, 2, 3]
    # motor axon 1 stands for units 1, 3, 5; its spike runs to the muscle only
    assert sorted(idx[fib == "motor"].tolist()) == [1, 3, 5]
    assert all(d == "to_periphery" for d, f in zip(ect.direction, fib, strict=True) if f == "motor")
    t = np.array(ect.time)
    # each copy is its sample's spike delayed by less than one window (the trains' period)
    src = np.where(fib == "motor", 3.0, np.where(idx % 2 == 0, 1.0, 2.0))
    assert np.all((t >= src) & (t < src + 10.0))
    assert len(set(t[fib == "ia"].round(9))) == 4, "the copies are not in lockstep"
    again = segment_input(root, Segment("s", 0.0, 20.0), n_units=6, n_ia=4, seed=1)
    assert again.time == ect.time, "seeded"
    assert Direction.BOTH  # the enum the mapping uses exists


def test_only_the_lesioned_share_of_the_afferents_carries_the_trains():
    windows = [[0.0, 10.0, 10.0], [10.0, 10.0, 10.0]]
    sens = _group("sensory", 2, [1.0, 2.0], [0, 1], windows, muscle=False)
    root = SimpleNamespace(groups=[sens])
    seg = Segment("s", 0.0, 20.0)
    full = segment_input(root, seg, n_units=0, n_ia=10, seed=1)
    part = segment_input(root, seg, n_units=0, n_ia=10, seed=1, ia_share=0.3)
    assert sorted(full.index) == list(range(10))
    assert sorted(part.index) == [0, 1, 2]  # the first round(0.3 * 10), both samples
    # the lesioned afferents keep the phases they have in the full mapping
    assert [t for t, j in zip(full.time, full.index, strict=True) if j < 3] == list(part.time)
    assert segment_input(root, seg, 0, 10, seed=1, ia_share=0.0).time == ()
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="ia_share"):
            segment_input(root, seg, 0, 10, seed=1, ia_share=bad)


def test_a_burst_stays_where_the_root_fired_it():
    """Seconds of firing (e.g. after a relief of pressure) inside a long segment: every
    represented fibre fires within a window of the burst, not anywhere in the segment;
    a spike just before the segment is delayed into it or dropped, never wrapped."""
    windows = [[t, 10.0, 10.0] for t in np.arange(0.0, 1000.0, 10.0)]
    burst = np.arange(400.0, 500.0, 5.0)  # 200 Hz for 100 ms
    sens = _group("sensory", 1, [95.0, *burst], np.zeros(burst.size + 1), windows, muscle=False)
    ect = segment_input(SimpleNamespace(groups=[sens]), Segment("s", 100.0, 900.0), 0, 50, 3)
    t = np.array(ect.time)
    inside = (t >= 300.0) & (t < 410.0)
    assert inside.sum() >= 50 * (burst.size - 2) and np.all(inside | (t < 10.0))


def test_bad_segments():
    with pytest.raises(ValueError, match="start"):
        Segment("x", -1.0, 10.0)
    with pytest.raises(ValueError, match="duration"):
        Segment("x", 0.0, 0.0)


def test_first_cramp_is_the_earliest_onset_in_protocol_time():
    def v(name, start_min, onset_s):
        return {
            "segment": name,
            "start_min": start_min,
            "cramp": onset_s is not None,
            "onset_s": onset_s,
        }

    # a long segment from standing up overlaps the sampled ones; its onset counts from
    # its own start
    verdicts = [v("lying", 0.5, None), v("standing", 4.5, 0.0), v("from standing up", 1.0, 90.0)]
    assert first_cramp(verdicts) == {"segment": "from standing up", "time_min": 2.5}
    verdicts[2] = v("from standing up", 1.0, 240.0)
    assert first_cramp(verdicts) == {"segment": "standing", "time_min": 4.5}
    assert first_cramp([v("lying", 0.5, None)]) is None


SCENARIO = f"""
[experiment]
kind = "scenario"
[compression]
file = "{ROOT}/models/compression/stenosis_single.toml"
[compression.set]
"lesion.level" = [{{ node = 10, length = "10 mm" }}]
"schedule.phase" = [{{ posture = "lying", duration = "4 s" }}, {{ posture = "extension", duration = "8 s" }}, {{ posture = "flexion" }}]
[[axons]]
kind = "motor"
model = "{ROOT}/models/axon/human_motor.toml"
n = 2
[[axons]]
kind = "sensory"
model = "{ROOT}/models/axon/human_sensory.toml"
n = 2
[run]
duration = "16 s"
nodes = 21
window = "10 ms"
slow_dt = "500 ms"
track_every = "0 s"
sample = "1 s"
[ions]
o2_exchange = "2 1/s"
o2_baseline = "27 mg/L"
[spinal]
model = "{ROOT}/models/spinal/motoneuron_pool.toml"
muscle = "{ROOT}/models/muscle/fuglevand_1993.toml"
[[segments]]
name = "lying"
start = "1 s"
duration = "3 s"
[[segments]]
name = "extension"
start = "9 s"
duration = "3 s"
"""


@pytest.mark.slow
def test_accelerated_stenosis_cramps_in_extension_only(tmp_path):
    """O2 exchange accelerated ~130x so that seconds stand for minutes: the chronic
    lesion fires in extension (no flow) and the Ia barrage makes the pool cramp; lying
    gives no ectopic input and no cramp."""
    p = tmp_path / "chain.toml"
    p.write_text(SCENARIO)
    rep = run_experiment(p, tmp_path / "out")
    v = {x["segment"]: x for x in rep.metrics["verdicts"]}
    assert v["lying"]["ectopic_inputs"] == 0 and not v["lying"]["cramp"]
    assert v["extension"]["ectopic_inputs"] > 1000
    assert v["extension"]["cramp"], v["extension"]
    assert (tmp_path / "out" / "chain" / "chain.png").stat().st_size > 50_000
    # when the root fires: in extension (4-12 s), spanning the extension segment (9-12 s)
    span = rep.metrics["ectopic_discharge"]["sensory"]
    assert 4.0 <= 60 * span["first_min"] <= 9.0, span
    assert 60 * span["last_min"] >= 9.0, span
    assert any("ectopic discharge in the root: " in line for line in rep.lines)
    first = rep.metrics["first_cramp"]
    assert first["segment"] == "extension" and 9.0 <= 60 * first["time_min"] <= 12.0, first


def test_scenario_bad_input(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(SCENARIO.split("[[segments]]")[0])
    with pytest.raises(ValueError, match="segments"):
        run_experiment(p, tmp_path / "out")
    # longer than the compiled spinal network holds: refused before the root stage runs
    long = SCENARIO.replace(
        'start = "9 s"\nduration = "3 s"', 'start = "0 s"\nduration = "16 s"'
    ).replace("[[segments]]", '[spinal.set.simulation]\nmax_duration = "10 s"\n[[segments]]', 1)
    p.write_text(long)
    with pytest.raises(ValueError, match="max_duration"):
        run_experiment(p, tmp_path / "out")
    assert not (tmp_path / "out" / "bad" / "root.nc").exists()
    share = SCENARIO.replace("[spinal]\n", "[spinal]\nia_share = 1.5\n", 1)
    assert share != SCENARIO
    p.write_text(share)
    with pytest.raises(ValueError, match="ia_share"):
        run_experiment(p, tmp_path / "out")
    late = SCENARIO.replace('start = "9 s"', 'start = "15 s"')
    p.write_text(late)
    with pytest.raises(ValueError, match="after the protocol"):
        run_experiment(p, tmp_path / "out")


@pytest.mark.slow
def test_a_fatigued_calf_cramps_on_a_smaller_barrage():
    """Fatigue lowers the ectopic Ia barrage that cramps the calf (README, "Fatigue in
    the stenosis scenario"): from standing up in the reference scenario, 8 of the 60 Ia
    afferents through the lesion cramp the fatigued calf (level 0.6) and not the rested
    one, which needs 9."""
    from neurosim.experiments import load_experiment
    from neurosim.experiments._root import read_root, root_kwargs
    from neurosim.experiments.scenario import read_segments, read_spinal
    from neurosim.simulate.chain import _fit_ectopic_table
    from neurosim.simulate.root import simulate_root
    from neurosim.simulate.spinal import simulate_spinal

    cfg = load_experiment(ROOT / "experiments" / "stenosis_standing.toml")
    spinal, muscle, _ = read_spinal(cfg)
    compression, groups, run = read_root(cfg)
    i, seg = next((i, s) for i, s in enumerate(read_segments(cfg)) if s.name == "from standing up")
    kw = root_kwargs(run)
    seed = kw.pop("seed")
    root = simulate_root(compression, groups, run["duration"], seed=seed, **kw)
    n_ia = int(spinal["spindle"]["n_afferents"])
    # the scenario's own seeds for this segment (neurosim.simulate.chain.simulate_chain)
    ect = segment_input(
        root, seg, int(spinal["pool"]["n_units"]), n_ia, seed=seed + 1000 + i, ia_share=8 / n_ia
    )
    cramp = {
        level: simulate_spinal(
            _fit_ectopic_table(spinal, ect),
            muscle.with_overrides({"fatigue": {"level": level}}, "test"),
            seg.duration,
            ectopic=ect,
            seed=seed + i,
        ).cramp
        for level in (0.0, 0.6)
    }
    assert n_ia == 60 and len(ect.time) > 0
    assert not cramp[0.0].detected
    assert cramp[0.6].detected and cramp[0.6].total_duration > 5e3  # measured 12.5 s
