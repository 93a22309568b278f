"""Regression checks (`neurosim check`, the `neurosim_baseline` pytest fixture).

The project's own standard scenarios are guarded here with the same fixture users get.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from neurosim.check import lookup_metric, run_check
from neurosim.cli import main

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ROOT / "tests" / "baselines"


def test_standard_scenarios(neurosim_baseline):
    """CI guard: firing rates, spike counts and CV of the standard quick scenarios."""
    report = neurosim_baseline("baselines/standard.json")
    assert len(report.rows) >= 5 and report.ok


@pytest.mark.slow
def test_chain_scenarios(neurosim_baseline):
    """CI guard: cramp verdicts, ectopic input and discharge rate of the whole chain
    (stenotic root at CI size: cramp standing in extension, none lying; after a stand,
    a cramp on lying down that ends on its own, none 75 s into bed)."""
    report = neurosim_baseline("baselines/scenarios.json")
    assert len(report.rows) == 13 and report.ok


@pytest.fixture
def baseline(tmp_path: Path) -> Path:
    """A private copy of the standard baseline and its scenario."""
    (tmp_path / "hh_fi_curve.toml").write_text(
        (BASELINES / "hh_fi_curve.toml").read_text().replace("../../models/", f"{ROOT}/models/")
    )
    p = tmp_path / "b.json"
    p.write_text((BASELINES / "standard.json").read_text())
    return p


def _edit(path: Path, fn) -> None:
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_drift_is_reported_with_exit_1(baseline, capsys):
    _edit(baseline, lambda d: d["scenarios"][0]["metrics"]["rate_hz[2]"].update(value=90.0))
    assert main(["check", str(baseline)]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "rate_hz[2]" in line)
    assert row.split() == ["hh_fi_curve", "rate_hz[2]", "90", "100", "±0.5", "DRIFT"]
    assert "1 DRIFTED" in out
    # inside the band: 100.4 vs 100 +- 0.5 passes
    _edit(baseline, lambda d: d["scenarios"][0]["metrics"]["rate_hz[2]"].update(value=100.4))
    assert main(["check", str(baseline)]) == 0


def test_rel_band_and_null(baseline):
    def change(d):
        m = d["scenarios"][0]["metrics"]
        m["cv_m_per_s[1]"]["value"] *= 1.002  # 0.2 % off with a 0.1 % band
        m["cv_m_per_s[0]"]["value"] = 1.0  # the 0.5 nA point does not propagate: null
        m["spike_count[1]"]["value"] = True  # a boolean baseline must equal exactly

    _edit(baseline, change)
    rows = {r.metric: r for r in run_check(baseline).rows}
    assert not rows["cv_m_per_s[1]"].ok and not rows["cv_m_per_s[0]"].ok
    assert rows["rate_hz[2]"].ok and rows["cv_m_per_s[3]"].ok


def test_update_rewrites_values_keeps_bands(baseline):
    _edit(baseline, lambda d: d["scenarios"][0]["metrics"]["rate_hz[3]"].update(value=1.0))
    assert main(["check", str(baseline), "--update"]) == 0
    m = json.loads(baseline.read_text())["scenarios"][0]["metrics"]["rate_hz[3]"]
    assert m == {"value": 100.0, "abs": 0.5}
    assert run_check(baseline).ok


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda d: d["scenarios"][0].update(name="other"), "`name` = 'other' does not match"),
        (
            lambda d: d["scenarios"][0]["metrics"].update({"rate_hz[9]": {"value": 1}}),
            "metric 'rate_hz\\[9\\]' does not match.*out of range",
        ),
        (
            lambda d: d["scenarios"][0]["metrics"].update({"ratez": {"value": 1}}),
            "metric 'ratez'.*no key 'ratez'.*rate_hz",
        ),
        (
            lambda d: d["scenarios"][0]["metrics"]["rate_hz[2]"].update(rel=-0.1),
            "rel = -0.1 must be a finite number >= 0",
        ),
        (
            lambda d: d["scenarios"][0]["metrics"]["rate_hz[2]"].update(tol=1),
            "unknown key\\(s\\) 'tol'",
        ),
        (lambda d: d["scenarios"][0]["metrics"]["rate_hz[2]"].pop("value"), "with a `value`"),
        (lambda d: d.update(scenarios=[]), "`scenarios` is empty"),
        (lambda d: d["scenarios"][0].pop("experiment"), "`experiment`"),
    ],
)
def test_bad_baselines(baseline, capsys, change, match):
    _edit(baseline, change)
    with pytest.raises(ValueError, match=match):
        run_check(baseline)
    assert main(["check", str(baseline)]) == 2
    assert "error" in capsys.readouterr().err


def test_missing_scenario_file(baseline):
    _edit(baseline, lambda d: d["scenarios"][0].update(experiment="gone.toml"))
    assert main(["check", str(baseline)]) == 2


def test_lookup_metric():
    m = {"thresholds_hz": {"normal": {"intact": 16.0, "blocked": None}}, "r": [1, [2, 3]]}
    assert lookup_metric(m, "thresholds_hz.normal.intact") == 16.0
    assert lookup_metric(m, "thresholds_hz.normal.blocked") is None
    assert lookup_metric(m, "r[1][0]") == 2
    with pytest.raises(KeyError, match="no key 'cramp'"):
        lookup_metric(m, "thresholds_hz.cramp")


def test_plugin_in_a_user_suite(baseline, tmp_path):
    """The fixture comes from the installed entry point, as in any user's project."""
    drifted = tmp_path / "drifted.json"
    drifted.write_text(baseline.read_text())
    _edit(drifted, lambda d: d["scenarios"][0]["metrics"]["spike_count[2]"].update(value=7))
    (tmp_path / "test_user.py").write_text(
        "def test_ok(neurosim_baseline):\n"
        "    assert neurosim_baseline('b.json').ok\n\n"
        "def test_drift(neurosim_baseline):\n"
        "    neurosim_baseline('drifted.json')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 failed, 1 passed" in proc.stdout
    assert "spike_count[2]" in proc.stdout and "DRIFT" in proc.stdout
