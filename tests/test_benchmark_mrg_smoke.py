"""Smoke test of benchmarks/mrg_throughput.py (--quick), MRG and human sensory axon: it
runs, both simulators measure the same conduction velocity, and it ends with
``ratio: X``. Not a timing test: the ratio is only required to be a positive number
(timings belong to the benchmark)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.neuron
@pytest.mark.parametrize(("model", "cv"), [("mrg", 51.3), ("human_sensory", 50.2)])
def test_mrg_throughput_quick(model, cv):
    pytest.importorskip("neuron")
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "mrg_throughput.py"),
            "--quick",
            "--model",
            model,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        check=True,
    ).stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    m = re.fullmatch(r"ratio: (\d+(?:\.\d+)?)", lines[-1])
    assert m and float(m.group(1)) > 0, lines[-1]
    cvs = [float(x) for x in re.findall(r"CV (\d+\.\d+) m/s", out)]
    assert len(cvs) == 2
    # same equations, same dt: the CVs agree (issue 3: within 3 %; achieved ~1e-8)
    assert abs(cvs[0] / cvs[1] - 1) < 1e-4
    # 10 um, node[10] -> node[30] after a node[0] pulse: MRG 51.3448, human sensory
    # 50.2171 m/s (both simulators, measured 2026-12-06); the band is a regression
    # check around those values rounded to 0.1 m/s, not a physiological tolerance
    assert abs(cvs[0] - cv) < 0.1
    rates = re.findall(r"([\d.]+) M compartment-steps/s", out)
    assert len(rates) == 2 and all(float(r) > 0 for r in rates)
