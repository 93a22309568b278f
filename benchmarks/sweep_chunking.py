"""Two stores of the 1000-point compression sweep, point by point: what the chunking changes.

The members of one root run share its slow steps (``neurosim/simulate/ionic.py``), so a
point's outputs depend, within the multi-rate error, on the other pressures of its
chunk. Run the sweep twice with different ``chunk`` values (each into its own store),
then compare them:

    .venv/bin/neurosim sweep experiments/sweeps/compression_pressure_duration.toml --out A
    # the same file with another `chunk`, as B.toml
    .venv/bin/neurosim sweep B.toml --out B
    .venv/bin/python benchmarks/sweep_chunking.py A B

Printed: the points with sensory or motor ectopic firing in each store, the relative
difference of the sensory rates where both fire above 20 Hz, the threshold changes'
differences (percentage points) and the points whose conduction differs, split by
whether the sensory axon fires there. Then, in each store, the spread of the sensory
rate over the points at or above ``--closed`` mmHg in the first 5 min: there every
vessel of the root is closed and the pressure-dependent myelin damage has not begun,
so these axons are the same at every pressure and differ only by the slow steps of
their chunk. Exits 1 if the stores hold different points.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from neurosim.sweep import open_sweep

KEYS = ("grid.pressure", "grid.duration")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", help="first store (e.g. the new chunking)")
    ap.add_argument("b", help="second store (the reference)")
    ap.add_argument(
        "--closed", type=float, default=100.0, help="pressure that closes every vessel (mmHg)"
    )
    args = ap.parse_args()
    a, b = open_sweep(args.a).load(), open_sweep(args.b).load()
    for k in KEYS:
        if not np.array_equal(a[k].values, b[k].values):
            print(f"the stores hold different points ({k} differs)")
            return 1
    if not (a["done"].all() and b["done"].all()):
        print("a store is incomplete: finish both sweeps first")
        return 1
    print(f"{a.sizes['point']} points")
    for kind in ("sensory", "motor"):
        ra, rb = a[f"{kind}_ectopic_rate"].values, b[f"{kind}_ectopic_rate"].values
        print(f"{kind}: ectopic firing at {(ra > 0).sum()} / {(rb > 0).sum()} points")
    ra, rb = a["sensory_ectopic_rate"].values, b["sensory_ectopic_rate"].values
    both = (ra > 20.0) & (rb > 20.0)
    if both.any():
        rel = 100.0 * (ra[both] - rb[both]) / rb[both]
        q1, med, q3 = np.percentile(rel, [25, 50, 75])
        print(
            f"sensory rate above 20 Hz in both ({both.sum()} points): median {med:+.1f}% "
            f"(interquartile {q1:+.1f} to {q3:+.1f}%); all sensory spikes "
            f"{100.0 * (ra.sum() - rb.sum()) / rb.sum():+.1f}%"
        )
    for kind in ("motor", "sensory"):
        d = np.abs(a[f"{kind}_threshold_change"].values - b[f"{kind}_threshold_change"].values)
        if np.isfinite(d).any():
            print(
                f"{kind} threshold change: median |difference| {np.nanmedian(d):.2f}, "
                f"max {np.nanmax(d):.2f} percentage points"
            )
    firing = (ra > 0) | (rb > 0)
    for kind in ("motor", "sensory"):
        ca, cb = a[f"{kind}_conducting"].values, b[f"{kind}_conducting"].values
        flip = ca != cb
        print(
            f"{kind} conduction differs at {flip.sum()} points: {(flip & firing).sum()} where "
            f"the sensory axon fires, {(flip & ~firing).sum()} where it does not; conducting "
            f"{int(ca.sum())} / {int(cb.sum())}"
        )
    for name, ds in (("a", a), ("b", b)):
        p, d = ds["grid.pressure"].values, ds["grid.duration"].values / 60_000.0
        rate = ds["sensory_ectopic_rate"].values
        spreads = []
        for minute in np.unique(d[d <= 5.0]):
            r = rate[(p >= args.closed) & (d == minute)]
            if r.size > 1 and r.mean() > 0:
                spreads.append(f"{minute:g} min {r.min():.0f}-{r.max():.0f} Hz")
        print(f"{name}: sensory rate at >= {args.closed:g} mmHg: " + "; ".join(spreads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
