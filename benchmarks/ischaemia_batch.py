"""Root stage at scale: a 10 min cuff ischaemia on a batch of 64 human axons.

Issue 4 asks for a 10 min ischaemia protocol on 64 human axons in under 5 minutes of wall
time on this machine. The protocol is ``experiments/ischaemia_release.toml`` as shipped
(32 motor + 32 sensory axons of 21 nodes, cuff ``models/compression/cuff_ischaemia.toml``,
dt 25 us, 10 ms fast windows, slow steps up to 5 s, threshold tracking every minute),
cut to its first 10 minutes (1 min baseline, 9 min of cuff). NEURON has no counterpart of
the multi-rate ion layer, so this is an absolute wall time, not a ratio: read it with
the machine's load (printed).

    .venv/bin/python benchmarks/ischaemia_batch.py               # 10 min, 32 + 32 axons
    .venv/bin/python benchmarks/ischaemia_batch.py --minutes 2   # a quick look
"""

from __future__ import annotations

import argparse
import os
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "ischaemia_release.toml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="protocol length")
    ap.add_argument("--per-kind", type=int, default=32, help="axons of each kind")
    ap.add_argument("--threads", type=int, default=0, help="kernel threads (0: all)")
    args = ap.parse_args()

    from neurosim.experiments._root import read_root, root_kwargs
    from neurosim.simulate.root import simulate_root

    cfg = tomllib.loads(EXPERIMENT.read_text())
    cfg["_path"] = str(EXPERIMENT)
    cfg["run"]["duration"] = f"{args.minutes} min"
    cfg["run"]["threads"] = args.threads
    for a in cfg["axons"]:
        a["n"] = args.per_kind
    compression, groups, run = read_root(cfg)
    kw = root_kwargs(run)
    seed = kw.pop("seed")
    n = sum(g.n for g in groups)
    print(f"{n} axons ({', '.join(f'{g.n} {g.kind}' for g in groups)}), {args.minutes:g} min")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    res = simulate_root(compression, groups, run["duration"], seed=seed, **kw)
    wall = time.perf_counter() - t0
    for g in res.groups:
        print(f"  {g.kind:8s} {g.wall_s:7.1f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"wall {wall:.1f} s for {args.minutes:g} min of protocol (target < 300 s)")


if __name__ == "__main__":
    main()
