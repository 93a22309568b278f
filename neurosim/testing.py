"""pytest plugin: regression checks of simulated metrics inside a user's test suite.

Installed with neurosim (entry point ``pytest11``), it gives the fixture
:func:`neurosim_baseline`, a function that reruns the scenarios of a baseline file (see
:mod:`neurosim.check`) and fails the test with the readable table on drift::

    def test_firing_rates(neurosim_baseline):
        neurosim_baseline("tests/baselines/my_scenarios.json")

``pytest --neurosim-update-baselines`` rewrites the stored values instead of comparing
(the bands are kept), for after a deliberate model change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from neurosim.check import CheckReport, run_check

__all__ = ["neurosim_baseline"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("neurosim")
    group.addoption(
        "--neurosim-update-baselines",
        action="store_true",
        default=False,
        help="neurosim_baseline: store the new metric values instead of comparing",
    )


@pytest.fixture
def neurosim_baseline(request: pytest.FixtureRequest, tmp_path: Path):
    """``check(path) -> CheckReport``: rerun a baseline's scenarios; fail the test on drift.

    The scenarios write their outputs under the test's ``tmp_path``. Relative paths are
    taken from the directory of the test file.
    """
    update = bool(request.config.getoption("--neurosim-update-baselines"))
    base = Path(str(request.node.path)).parent

    def check(path: str | Path) -> CheckReport:
        path = Path(path)
        if not path.is_absolute():
            path = base / path
        report = run_check(path, update=update, work_dir=tmp_path / "neurosim-check")
        if not update and not report.ok:
            pytest.fail(f"simulated metrics drifted from {path}:\n{report.table()}", pytrace=False)
        return report

    return check
