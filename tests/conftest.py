"""Shared fixtures: where the reference data live, how they are loaded, the HH cable.

Floating-point traps: ``fp_raise`` turns numpy's invalid / divide-by-zero / overflow
warnings into :class:`FloatingPointError` for the tests that use it (the analytic and
reference comparisons, where a NaN would otherwise slip through a tolerance check as
"not less than"). It is not global: the numba kernels run with ``error_model="numpy"``
and do not consult numpy's error state anyway, and underflow stays ignored because an
``exp(-x**2)`` tail flushing to 0 is the correct answer, not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from neurosim.simulate.load import ModelFile, load_model

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "tests" / "data"
HH_CABLE_TOML = ROOT / "models" / "cable" / "hh_cable.toml"


@dataclass(frozen=True)
class Reference:
    """One stored NEURON reference run (see tests/reference/README.md for every key).

    ``v`` is (n_sites, n_t) in mV; ``spike_times`` (n_spike_sites, max_count) in ms,
    NaN padded; distances in um from the stimulated segment; ``meta`` the parsed JSON.
    """

    name: str
    t: np.ndarray
    v: np.ndarray
    site_labels: list[str]
    site_distance_um: np.ndarray
    spike_sites: list[str]
    spike_site_distance_um: np.ndarray
    spike_times: np.ndarray
    spike_counts: np.ndarray
    ap_peak: np.ndarray
    cv_m_per_s: float
    meta: dict

    @property
    def dt(self) -> float:
        return float(self.meta["dt_ms"])


def load_reference(name: str, folder: Path = DATA_DIR) -> Reference:
    """Read ``<folder>/<name>.npz`` written by tests/reference/hh_cable_neuron.py."""
    with np.load(folder / f"{name}.npz", allow_pickle=False) as z:
        return Reference(
            name=name,
            t=z["t"],
            v=z["v"],
            site_labels=[str(s) for s in z["site_labels"]],
            site_distance_um=z["site_distance_um"],
            spike_sites=[str(s) for s in z["spike_sites"]],
            spike_site_distance_um=z["spike_site_distance_um"],
            spike_times=z["spike_times"],
            spike_counts=z["spike_counts"],
            ap_peak=z["ap_peak"],
            cv_m_per_s=float(z["cv_m_per_s"]),
            meta=json.loads(str(z["meta"])),
        )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def hh_cable() -> ModelFile:
    """models/cable/hh_cable.toml as shipped; derive variants with ``.rebuild({...})``."""
    return load_model(HH_CABLE_TOML)


@pytest.fixture
def fp_raise():
    """numpy FP errors raise (except underflow, see the module docstring)."""
    with np.errstate(all="raise", under="ignore"):
        yield
