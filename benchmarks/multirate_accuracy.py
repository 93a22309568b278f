"""The compression sweep's multi-rate settings against the fully coupled run.

The sensory axons of ``experiments/pressure_duration_grid.toml`` (the sweep's target) at a
few constant pressures, run twice side by side: with the file's own ``[run]`` settings
(10 ms windows, slow steps up to 5 s, window currents averaged over the last second for
axons firing throughout it) and fully coupled (a 10 ms concentration step after every
10 ms window, no averaging). Printed: the ectopic rate of each minute in both runs, the
spikes over the run (from minute 2: the first is quiet) and over its second half, and
the time ratio.

    .venv/bin/python benchmarks/multirate_accuracy.py                    # 60-78 mmHg, 10 min
    .venv/bin/python benchmarks/multirate_accuracy.py --pressures 170 --minutes 2
    .venv/bin/python benchmarks/multirate_accuracy.py --quick            # smoke: 0.2 min
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "experiments" / "pressure_duration_grid.toml"
COUPLED = {"window": "10 ms", "slow_dt": "10 ms", "firing_step": "10 ms", "firing_average": "0 ms"}


def run(pressures: np.ndarray, minutes: float, over: dict) -> tuple[np.ndarray, float]:
    """Sensory ectopic rate (Hz) per pressure and minute, and the wall time (s)."""
    from neurosim.experiments import load_experiment
    from neurosim.experiments.pressure_duration_grid import _read_grid_defaults, simulate_grid

    cfg = load_experiment(GRID)
    cfg["axons"] = [a for a in cfg["axons"] if a["kind"] == "sensory"]
    cfg["run"] = {**cfg["run"], **over, "threads": 1}
    step = min(1.0, minutes)
    grid = {
        "pressures": pressures,
        "durations": np.arange(1, int(round(minutes / step)) + 1) * step * 60e3,
        "replicates": 1,
        "onset": _read_grid_defaults(cfg)["onset"],
    }
    t0 = time.perf_counter()
    _, gds, _ = simulate_grid(cfg, grid)
    return gds["ectopic_rate"].sel(kind="sensory").values, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pressures", default="60,66,72,78", help="mmHg, comma-separated")
    ap.add_argument("--minutes", type=float, default=10.0, help="protocol length (min)")
    ap.add_argument("--quick", action="store_true", help="one pressure, 0.2 min (smoke)")
    args = ap.parse_args(argv)
    pressures = np.array([float(p) for p in args.pressures.split(",")])
    minutes = args.minutes
    if args.quick:
        pressures, minutes = pressures[-1:], 0.2
    rates, walls = {}, {}
    for name, over in (("settings", {}), ("coupled", COUPLED)):
        rates[name], walls[name] = run(pressures, minutes, over)
    np.set_printoptions(precision=1, suppress=True, linewidth=160)
    for name in rates:
        print(f"{name}: ectopic rate (Hz) per minute, rows {pressures.tolist()} mmHg")
        print(rates[name])
    ref, mr = rates["coupled"], rates["settings"]
    half = ref.shape[1] // 2
    with np.errstate(invalid="ignore", divide="ignore"):
        total = 100.0 * (mr[:, 1:].sum(1) / ref[:, 1:].sum(1) - 1.0)
        late = 100.0 * (mr[:, half:].sum(1) / ref[:, half:].sum(1) - 1.0)
    print(f"spikes from minute 2, settings against coupled (%): {total}")
    print(f"spikes over the second half (%): {late}")
    print(f"wall: settings {walls['settings']:.1f} s, coupled {walls['coupled']:.1f} s")
    print(f"time ratio coupled / settings: {walls['coupled'] / walls['settings']:.1f}")


if __name__ == "__main__":
    main()
