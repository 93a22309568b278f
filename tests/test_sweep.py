"""Sweeps: sweep files (designs, seeds, bad input), batched evaluation, the store.

The batched model evaluator must give, point for point, what a separate run of the
model file with the same overrides gives: the same kernel on the same inputs, so the
comparison is exact (spike counts) or to 1e-9 (batched vs single kernel paths may
order floating-point operations differently).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neurosim.simulate import simulate_cable
from neurosim.simulate.load import load_model
from neurosim.sweep import load_sweep, open_sweep, point_seeds, run_sweep

ROOT = Path(__file__).resolve().parents[1]
HH = ROOT / "models" / "cable" / "hh_cable.toml"

# a short, coarse HH cable: ~10 ms per batched run
SMALL_MODEL = (
    HH.read_text()
    .replace("nseg = 100", "nseg = 20")
    .replace('tstop = "50 ms"', 'tstop = "10 ms"')
    .replace(
        'record = ["cable(0.005)", "cable(0.255)", "cable(0.505)", "cable(0.755)", "cable(0.995)"]',
        'record = ["cable(0.025)", "cable(0.275)", "cable(0.775)"]',
    )
    .replace('cv = ["cable(0.255)", "cable(0.755)"]', 'cv = ["cable(0.275)", "cable(0.775)"]')
)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    p = tmp_path / "small_hh.toml"
    p.write_text(SMALL_MODEL)
    return p


def write_sweep(tmp_path: Path, params: str, sweep: str = "", name: str = "s") -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(
        f'[sweep]\nname = "{name}"\ntarget = "small_hh.toml"\n{sweep}\n[parameters]\n{params}\n'
    )
    return p


GRID = """
"mechanisms.hh.gnabar" = { range = ["0.08 S/cm2", "0.16 S/cm2"], n = 3 }
"protocol.stimulus[0].amp" = { values = ["0.5 nA", 20] }
"""


def test_grid_is_full_factorial_in_internal_units(tmp_path, model_file):
    spec = load_sweep(
        write_sweep(tmp_path, GRID + '"morphology.diam" = { values = ["8 um", "0.012 mm"] }')
    )
    assert spec.n_points == 3 * 2 * 2
    g = spec.points["mechanisms.hh.gnabar"]
    np.testing.assert_allclose(np.unique(g), [0.08, 0.12, 0.16], rtol=1e-15)
    assert set(spec.points["protocol.stimulus[0].amp"]) == {0.5, 20.0}  # bare 20 -> nA
    assert set(spec.points["morphology.diam"]) == {8.0, 12.0}
    combos = {tuple(spec.points[p.name][i] for p in spec.parameters) for i in range(12)}
    assert len(combos) == 12
    assert spec.point(0)["morphology.diam"] == "8 um"


def test_log_range_and_lhs_strata(tmp_path, model_file):
    spec = load_sweep(
        write_sweep(
            tmp_path,
            '"protocol.stimulus[0].amp" = { range = ["1 nA", "100 nA"], scale = "log", n = 3 }',
        )
    )
    np.testing.assert_allclose(spec.points["protocol.stimulus[0].amp"], [1, 10, 100], rtol=1e-12)
    n = 16
    lhs = load_sweep(
        write_sweep(
            tmp_path,
            '"mechanisms.hh.gnabar" = { range = [0.1, 0.2] }\n'
            '"mechanisms.hh.gkbar" = { range = ["30 mS/cm2", "40 mS/cm2"] }',
            f'method = "lhs"\nsamples = {n}\nseed = 3',
        )
    )
    for name, lo, hi in (("mechanisms.hh.gnabar", 0.1, 0.2), ("mechanisms.hh.gkbar", 0.03, 0.04)):
        q = (lhs.points[name] - lo) / (hi - lo)
        # Latin hypercube: exactly one sample in each of the n strata of every parameter
        assert sorted((q * n).astype(int).tolist()) == list(range(n))
    rnd = load_sweep(
        write_sweep(
            tmp_path,
            '"mechanisms.hh.gnabar" = { range = [0.1, 0.2], scale = "log" }',
            "method = 'random'\nsamples = 50\nseed = 3",
        )
    )
    x = rnd.points["mechanisms.hh.gnabar"]
    assert x.shape == (50,) and x.min() >= 0.1 and x.max() <= 0.2 and len(set(x)) == 50


def test_seeds_depend_on_point_only(tmp_path, model_file):
    a = load_sweep(write_sweep(tmp_path, GRID, "seed = 7\nchunk = 2", name="a"))
    b = load_sweep(write_sweep(tmp_path, GRID, "seed = 7\nchunk = 5", name="b"))
    c = load_sweep(write_sweep(tmp_path, GRID, "seed = 8\nchunk = 2", name="c"))
    np.testing.assert_array_equal(a.seeds, b.seeds)
    np.testing.assert_array_equal(a.seeds[3:5], point_seeds(7, [3, 4]))
    assert not np.array_equal(a.seeds, c.seeds)
    assert len(set(a.seeds.tolist())) == a.n_points


@pytest.mark.parametrize(
    ("params", "sweep", "match"),
    [
        ('"mechanisms.hh.gnabarr" = { values = [0.1] }', "", "gnabarr.*valid keys.*gnabar"),
        ('"morphology.diameter" = { values = ["1 um"] }', "", "diameter.*valid keys.*diam"),
        ('"mechanisms.kdr.gkbar" = { values = [0.1] }', "", "no \\[mechanisms.kdr\\]"),
        ('"stenosis.grade" = { values = [1] }', "", "'stenosis' is not a table"),
        ('"protocol.stimulus[3].amp" = { values = [1] }', "", "has 1 \\[\\[protocol.stimulus"),
        ('"protocol.record" = { values = [1] }', "", "is a list"),
        ('"mechanisms.hh.gnabar" = { values = [] }', "", "values` = \\[\\] is empty"),
        (
            '"mechanisms.hh.gnabar" = { range = [0.2, 0.1], n = 3 }',
            "",
            "is empty: it needs lo < hi",
        ),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.1], n = 3 }', "", "is empty"),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.2] }', "", "needs `n`"),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.2], n = 0 }', "", "n` = 0"),
        ('"mechanisms.hh.gnabar" = { range = [0, 0.2], n = 2, scale = "log" }', "", "log scale"),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.2], n = 2 }', 'method = "lhs"', "samples"),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.2], n = 2 }', "samples = 3", "samples"),
        ('"mechanisms.hh.gnabar" = { range = [0.1, 0.2] }', 'method = "sobol"', "sobol"),
        ('"morphology.diam" = { values = ["-1 um"] }', "", "diam.*out of range"),
        ('"morphology.diam" = { values = ["1 mV"] }', "", "not a length unit"),
        ('"mechanisms.hh.gnabar" = { value = [0.1] }', "", "value"),
        ("", "", "\\[parameters\\] is empty"),
    ],
)
def test_bad_sweep_files(tmp_path, model_file, params, sweep, match):
    with pytest.raises(ValueError, match=match):
        load_sweep(write_sweep(tmp_path, params, sweep))


def test_missing_target(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[sweep]\ntarget = "nope.toml"\n[parameters]\n"a.b" = { values = [1] }\n')
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        load_sweep(p)


def _separate(model_file: Path, point: dict) -> dict:
    """One point by itself: a plain load with overrides and an unbatched run."""
    amp = point.pop("protocol.stimulus[0].amp", None)
    mf = load_model(model_file, point)
    proto = mf.protocol
    if amp is not None:
        from dataclasses import replace

        stim = replace(proto.stimuli[0], amp=float(amp.split()[0]))
        proto = replace(proto, stimuli=(stim,))
    res = simulate_cable(mf.model, proto)
    return {
        "cv": float(res.conduction_velocity()[0]),
        "counts": res.spike_counts[0].tolist(),
        "peak": res.ap_peak(res.spike_sites[-1]),
    }


@pytest.mark.parametrize(
    "extra",
    [
        "",  # batch keys only: one run per chunk
        '"morphology.nseg" = { values = [20, 30] }',  # structure differs: separate runs
        '"morphology.diam" = { values = ["8 um", "12 um"] }',  # same layout: one batch
    ],
)
def test_batched_points_equal_separate_runs(tmp_path, model_file, extra):
    spec = load_sweep(write_sweep(tmp_path, GRID + extra, "chunk = 5"))
    run = run_sweep(spec, tmp_path / "out.zarr", workers=1, quiet=True)
    assert (run.ran, run.skipped, run.n_points) == (spec.n_points, 0, spec.n_points)
    ds = open_sweep(run.store).load()
    assert ds["done"].values.all()
    for i in range(spec.n_points):
        ref = _separate(model_file, spec.point(i))
        np.testing.assert_allclose(ds["cv_m_per_s"].values[i], ref["cv"], rtol=1e-9)
        counts = [
            ds[f"spike_count_{s}"].values[i] for s in ("cable_0_025", "cable_0_275", "cable_0_775")
        ]
        assert counts == ref["counts"]
        np.testing.assert_allclose(ds["ap_peak_cable_0_775"].values[i], ref["peak"], rtol=1e-9)
    # the 0.5 nA points do not fire: NaN CV and peaks, zero counts
    weak = ds["protocol.stimulus[0].amp"].values == 0.5
    assert np.isnan(ds["cv_m_per_s"].values[weak]).all()
    assert (ds["spike_count_cable_0_775"].values[weak] == 0).all()
    assert (ds["spike_count_cable_0_775"].values[~weak] <= 1).all()
    assert ds["spike_count_cable_0_775"].values[~weak].sum() >= 1


def test_store_provenance_and_resume(tmp_path, model_file):
    path = write_sweep(tmp_path, GRID, "seed = 5\nchunk = 4")
    out = tmp_path / "r.zarr"
    first = run_sweep(path, out, workers=1, quiet=True)
    ds = open_sweep(out)
    assert ds.attrs["sweep_text"] == path.read_text()
    assert ds.attrs["seed"] == 5 and ds.attrs["dt_ms"] == 0.025
    assert ds.attrs["neurosim_version"] and "git_commit" in ds.attrs
    assert ds.attrs["target_text"] == model_file.read_text()
    assert [p["name"] for p in json.loads(ds.attrs["parameters"])] == [
        "mechanisms.hh.gnabar",
        "protocol.stimulus[0].amp",
    ]
    assert ds["mechanisms.hh.gnabar"].attrs["units"] == "S/cm2"
    assert ds["protocol.stimulus[0].amp"].attrs["units"] == "nA"
    assert ds["cv_m_per_s"].attrs["units"] == "m/s"
    np.testing.assert_array_equal(ds["seed"].values, point_seeds(5, range(6)))
    # rerun: nothing left to do, nothing changed
    again = run_sweep(path, out, workers=1, quiet=True)
    assert (first.ran, again.ran, again.skipped) == (6, 0, 6)
    # a different sweep file for the same store
    other = write_sweep(tmp_path, GRID.replace("n = 3", "n = 4"), name="other")
    with pytest.raises(ValueError, match="different sweep file"):
        run_sweep(other, out, workers=1, quiet=True)
    # the same sweep file with a changed target
    model_file.write_text(SMALL_MODEL.replace('dt = "25 us"', 'dt = "20 us"'))
    with pytest.raises(ValueError, match="target file .* changed"):
        run_sweep(path, out, workers=1, quiet=True)
    # NetCDF export
    model_file.write_text(SMALL_MODEL)
    nc = run_sweep(path, out, workers=1, quiet=True, to_netcdf=tmp_path / "r.nc").netcdf
    import xarray as xr

    with xr.open_dataset(nc) as d2:
        np.testing.assert_array_equal(d2["cv_m_per_s"].values, ds["cv_m_per_s"].values)


def test_unreachable_scheduler_leaves_store_untouched(tmp_path, model_file):
    out = tmp_path / "never.zarr"
    with pytest.raises(ValueError, match="does not answer"):
        run_sweep(
            write_sweep(tmp_path, GRID),
            out,
            scheduler="tcp://127.0.0.1:9",
            scheduler_timeout=1.0,
            quiet=True,
        )
    assert not out.exists()


def test_cli_sweep_errors_exit_2(tmp_path, model_file, capsys):
    from neurosim.cli import main

    bad = write_sweep(tmp_path, '"mechanisms.hh.gnabarr" = { values = [0.1] }')
    assert main(["sweep", str(bad), "--out", str(tmp_path / "x.zarr"), "--quiet"]) == 2
    assert "gnabarr" in capsys.readouterr().err
    assert not (tmp_path / "x.zarr").exists()


# -- experiment targets -----------------------------------------------------------------
FI = ROOT / "tests" / "baselines" / "hh_fi_curve.toml"


@pytest.fixture
def fi_experiment(tmp_path: Path) -> Path:
    p = tmp_path / "fi.toml"
    p.write_text(FI.read_text().replace("../../models/", f"{ROOT}/models/"))
    return p


def test_experiment_target(tmp_path, fi_experiment):
    from neurosim.experiments import run_experiment

    sweep = tmp_path / "fi_sweep.toml"
    sweep.write_text(
        '[sweep]\ntarget = "fi.toml"\nchunk = 2\n[parameters]\n'
        '"overrides.mechanisms.hh.gnabar" = { values = ["0.12 S/cm2", "0.09 S/cm2"] }\n'
        '"cable_response.duration" = { values = ["40 ms", "20 ms"] }\n'
    )
    run = run_sweep(sweep, tmp_path / "fi.zarr", workers=1, quiet=True)
    ds = open_sweep(run.store).load()
    assert ds.sizes["point"] == 4 and ds["done"].all()
    assert ds["rate_hz_2"].attrs["units"] == "Hz"
    # point 0 is the experiment file as written: its rates equal a plain run's
    rep = run_experiment(fi_experiment, out_root=tmp_path / "res")
    np.testing.assert_array_equal(
        [ds[f"rate_hz_{k}"].values[0] for k in range(5)], rep.metrics["rate_hz"]
    )
    # rate = spikes at the site / stimulus duration, per point
    dur = ds["cable_response.duration"].values
    assert set(dur) == {40.0, 20.0}
    for k in range(5):
        np.testing.assert_allclose(
            ds[f"rate_hz_{k}"].values * dur / 1e3, ds[f"spike_count_{k}"].values, rtol=1e-12
        )
    with pytest.raises(ValueError, match="unknown parameter `cable_response.amplitudes`"):
        sweep.write_text(
            '[sweep]\ntarget = "fi.toml"\n[parameters]\n'
            '"cable_response.amplitudes" = { values = [1] }\n'
        )
        load_sweep(sweep)


def test_unsweepable_experiment_kind(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        f'[sweep]\ntarget = "{ROOT}/experiments/electrically_induced_cramp.toml"\n'
        '[parameters]\n"protocol.seed" = { values = [1, 2] }\n'
    )
    with pytest.raises(ValueError, match="cannot be swept.*evaluate_points"):
        load_sweep(sweep)
