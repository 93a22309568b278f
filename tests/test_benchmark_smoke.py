"""The benchmarks still run (a smoke test, not a timing: see benchmarks/)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
from conftest import ROOT


def run_quick(script: str) -> str:
    """Run ``benchmarks/SCRIPT --quick``; its standard output (it must succeed)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow
def test_cable_throughput_quick_runs():
    out = run_quick("cable_throughput.py")
    assert re.search(r"^numba cache: (HIT|MISS)", out, re.M), out
    assert re.search(r"^neurosim +[0-9.e+]+ compartment-steps/s", out, re.M), out
    last = out.strip().splitlines()[-1]
    if importlib.util.find_spec("neuron") is not None:
        m = re.fullmatch(r"ratio: ([0-9.]+)", last)
        assert m and float(m.group(1)) > 0, out
        assert "NEURON, exact rates (usetable_hh=0)" in out
        assert "NEURON, rate tables (usetable_hh=1)" in out
        # both measure the same CV with exact rates (same equations and dt: they agree to
        # ~1e-14, tests/test_hh_vs_neuron.py); 2e-6 is the rounding of the 6 printed
        # decimals, twice
        cvs = re.findall(r"CV ([0-9.]+) m/s", out)
        assert len(cvs) == 3 and abs(float(cvs[0]) / float(cvs[1]) - 1) < 2e-6, out
    else:
        assert last == "ratio: n/a (NEURON not run)", out


@pytest.mark.slow
def test_multirate_accuracy_quick_runs():
    out = run_quick("multirate_accuracy.py")
    assert "settings: ectopic rate (Hz) per minute" in out and "coupled:" in out, out
    m = re.search(r"^time ratio coupled / settings: ([0-9.]+)$", out, re.M)
    assert m and float(m.group(1)) > 0, out
