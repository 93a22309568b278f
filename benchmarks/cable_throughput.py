"""Throughput of a batch of Hodgkin-Huxley cables: neurosim against NEURON.

The issue's benchmark: B = 1000 unmyelinated HH cables of 100 compartments (10 mm x
10 um, Ra 100 ohm cm, cm 1 uF/cm2, NEURON's hh at 6.3 degC), fixed dt 25 us for 50 ms,
a 20 nA, 0.5 ms pulse into the first segment at 1 ms; the model is
models/cable/hh_cable.toml (checked against these numbers at start-up).

- neurosim: one batched run of B members on ``--threads`` numba threads.
- NEURON: one model with B sections, ``ParallelContext.nthread(--threads)``, an IClamp
  per cable at ``sec(0.005)``, backward Euler (``secondorder = 0``). It runs twice per
  round: with ``usetable_hh = 0`` (exact rates: the same equations neurosim integrates;
  the ratio is taken against this one) and with its default rate tables
  (``usetable_hh = 1``: 200-point tables interpolated linearly, faster and less exact).

The runs alternate (neurosim, NEURON exact, NEURON tables, neurosim, ...) so that a
change in machine load hits all of them alike. Only the integration is timed: building
the model and initialising (``CableSimulation.initialize``, ``h.finitialize``) are not.
neurosim's kernel compile or cache-load time is reported separately: the first call in
this (fresh) process against later calls of the same size, with numba's cache-hit
counters and the cache files that existed before the run.

Each side measures the conduction velocity of the first spike between the segments at
x = 0.255 and 0.755 from upward 0 mV crossings interpolated linearly between steps
(neurosim in its kernel; NEURON from v recorded at those two segments).

    .venv/bin/python benchmarks/cable_throughput.py            # the full benchmark
    .venv/bin/python benchmarks/cable_throughput.py --quick    # smoke run (small B)

The last line is ``ratio: X`` = neurosim / NEURON (exact rates), median
compartment-steps per second (``ratio: n/a`` without NEURON).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "cable" / "hh_cable.toml"

# The benchmark, checked against the model file before anything runs.
SPEC = {
    "L_um": 10000.0,
    "diam_um": 10.0,
    "nseg": 100,
    "Ra_ohm_cm": 100.0,
    "cm_uF_cm2": 1.0,
    "celsius": 6.3,
    "dt_ms": 0.025,
    "tstop_ms": 50.0,
    "stim": ("cable(0.005)", 1.0, 0.5, 20.0),  # site, delay ms, dur ms, amp nA
    "cv": ("cable(0.255)", "cable(0.755)"),
    "v_init": -65.0,
}
HH_VALUES = {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "el": -54.3, "ena": 50.0, "ek": -77.0}
CV_X = (0.255, 0.755)
PAUSE_S = 0.5  # between timed runs: lets the other side's worker threads go idle


# --------------------------------------------------------------------------- neurosim


def _cache_files(cache_dir: Path) -> dict[str, float]:
    """numba cache files of the cable kernels -> modification time."""
    if not cache_dir.is_dir():
        return {}
    return {
        p.name: p.stat().st_mtime
        for p in cache_dir.iterdir()
        if p.suffix in (".nbi", ".nbc") and p.name.startswith("cable.")
    }


def build_neurosim(batch: int, threads: int):
    """The checked model file, a protocol that only detects spikes at the CV sites, and
    a factory of fresh simulations (construction is not timed)."""
    from neurosim.simulate import CableSimulation
    from neurosim.simulate.load import load_model

    mf = load_model(MODEL)
    model, proto = mf.model, mf.protocol
    sec = model.morphology.section("cable")
    got = {
        "L_um": sec.L,
        "diam_um": float(sec.diam[0]),
        "nseg": sec.nseg,
        "Ra_ohm_cm": sec.Ra,
        "cm_uF_cm2": sec.cm,
        "celsius": model.celsius,
        "dt_ms": proto.dt,
        "tstop_ms": proto.tstop,
        "stim": tuple((s.site, s.delay, s.dur, float(s.amp)) for s in proto.stimuli),
        "cv": proto.cv,
        "v_init": model.v_init,
    }
    want = {**SPEC, "stim": (SPEC["stim"],)}
    if got != want or proto.method != "backward_euler" or proto.stimuli[0].number != 1:
        raise SystemExit(f"{MODEL} no longer is the issue's benchmark: {got} != {SPEC}")
    (hh,) = model.placements
    values = {k: float(np.asarray(v)) for k, v in hh.values.items()}
    if hh.mechanism.name != "hh" or {**hh.mechanism.defaults, **values} != HH_VALUES:
        raise SystemExit(f"{MODEL}: hh parameters differ from {HH_VALUES}")
    # record no traces; detect spikes only where the CV is measured
    proto = dataclasses.replace(proto, record=(), detect=())

    def make(b: int = batch):
        return CableSimulation([model] * b, proto, threads=threads)

    return make, proto


def time_neurosim(sim) -> tuple[float, float]:
    """Seconds of ``advance`` over the whole protocol, and the median CV (m/s)."""
    sim.initialize()
    t0 = time.perf_counter()
    sim.advance(sim.protocol.n_steps)
    elapsed = time.perf_counter() - t0
    cv = sim.result().conduction_velocity()
    if not np.all(np.isfinite(cv)):
        raise RuntimeError("neurosim: some cables did not conduct a spike")
    return elapsed, float(np.median(cv))


def kernel_load(make, batch: int) -> dict:
    """First call of the kernels in this process vs later calls of the same size.

    The size is the benchmark's batch capped at one block more than the default block
    width, so the warm-up takes the same kernel (serial or threaded) as the timed runs
    and loads it before they start.
    """
    from numba.core.registry import CPUDispatcher

    import neurosim.kernels.cable as kc

    dispatchers = {name: obj for name, obj in vars(kc).items() if isinstance(obj, CPUDispatcher)}
    cache_dir = Path(next(iter(dispatchers.values())).stats.cache_path)
    before = _cache_files(cache_dir)
    size = min(batch, kc.DEFAULT_WIDTH + 1)
    times = []
    for _ in range(3):
        sim = make(size)
        t0 = time.perf_counter()
        sim.initialize()
        sim.advance(sim.protocol.n_steps)
        times.append(time.perf_counter() - t0)
    after = _cache_files(cache_dir)
    written = sorted(k for k in after if after[k] != before.get(k))
    stats = {}
    for name, f in sorted(dispatchers.items()):
        hits, misses = sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values())
        if hits or misses:  # only the kernels this run used
            stats[name] = (hits, misses)
    hit = bool(stats) and all(m == 0 for _, m in stats.values()) and not written
    return {
        "size": size,
        "first_s": times[0],
        "later_s": min(times[1:]),
        "hit": hit,
        "stats": stats,
        "files_before": len(before),
        "written": written,
        "cache_dir": cache_dir,
    }


# --------------------------------------------------------------------------- NEURON


def neuron_available() -> bool:
    return importlib.util.find_spec("neuron") is not None


class NeuronBench:
    """B HH cables in one NEURON model, integrated with ``threads`` threads."""

    def __init__(self, batch: int, threads: int):
        from neuron import h

        self.h = h
        h.load_file("stdrun.hoc")
        self.pc = h.ParallelContext()
        self.pc.nthread(threads)
        self.secs, self.stims, self.recs = [], [], []
        site, delay, dur, amp = SPEC["stim"]
        for i in range(batch):
            sec = h.Section(name=f"cable_{i}")
            sec.L, sec.diam, sec.nseg = SPEC["L_um"], SPEC["diam_um"], SPEC["nseg"]
            sec.Ra, sec.cm = SPEC["Ra_ohm_cm"], SPEC["cm_uF_cm2"]
            sec.insert("hh")
            for seg in sec:
                seg.gnabar_hh, seg.gkbar_hh = HH_VALUES["gnabar"], HH_VALUES["gkbar"]
                seg.gl_hh, seg.el_hh = HH_VALUES["gl"], HH_VALUES["el"]
                seg.ena, seg.ek = HH_VALUES["ena"], HH_VALUES["ek"]
            stim = h.IClamp(sec(0.005))
            stim.delay, stim.dur, stim.amp = delay, dur, amp
            self.secs.append(sec)
            self.stims.append(stim)
            self.recs.append([h.Vector().record(sec(x)._ref_v, sec=sec) for x in CV_X])
        self.t_rec = h.Vector().record(h._ref_t)
        self.distance = h.distance(self.secs[0](CV_X[0]), self.secs[0](CV_X[1]))
        h.celsius = SPEC["celsius"]
        h.dt = SPEC["dt_ms"]
        h.steps_per_ms = 1.0 / SPEC["dt_ms"]
        h.secondorder = 0
        h.CVode().active(0)
        self.pc.set_maxstep(10)  # psolve needs it; no NetCons, so any value > dt works

    def run(self, usetable: int) -> tuple[float, float]:
        """Seconds of ``psolve(tstop)`` and the median CV (m/s)."""
        h = self.h
        h.usetable_hh = usetable
        h.finitialize(SPEC["v_init"])
        t0 = time.perf_counter()
        self.pc.psolve(SPEC["tstop_ms"])
        elapsed = time.perf_counter() - t0
        if abs(h.t - SPEC["tstop_ms"]) > 1e-6:
            raise RuntimeError(f"NEURON stopped at t = {h.t}")
        t = self.t_rec.as_numpy()
        cvs = []
        for va, vb in self.recs:
            ta, tb = _first_crossing(t, va.as_numpy()), _first_crossing(t, vb.as_numpy())
            cvs.append(self.distance / (tb - ta) * 1e-3)
        cvs = np.array(cvs)
        if not np.all(np.isfinite(cvs)):
            raise RuntimeError("NEURON: some cables did not conduct a spike")
        return elapsed, float(np.median(cvs))


def _first_crossing(t: np.ndarray, v: np.ndarray, threshold: float = 0.0) -> float:
    k = np.flatnonzero((v[:-1] < threshold) & (v[1:] >= threshold))
    if k.size == 0:
        return np.nan
    k = k[0]
    return t[k] + (t[k + 1] - t[k]) * (threshold - v[k]) / (v[k + 1] - v[k])


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1000, help="cables (default 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--threads", type=int, default=2, help="threads for both (default 2)")
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: --batch 16 --rounds 1 unless given"
    )
    ap.add_argument("--no-neuron", action="store_true", help="neurosim only")
    args = ap.parse_args(argv)
    if args.quick:
        given = set(argv if argv is not None else sys.argv[1:])
        if "--batch" not in given:
            args.batch = 16
        if "--rounds" not in given:
            args.rounds = 1
    if args.batch < 1 or args.rounds < 1 or args.threads < 1:
        ap.error("--batch, --rounds and --threads must be >= 1")

    t_import = time.perf_counter()
    import numba

    import neurosim

    make, proto = build_neurosim(args.batch, args.threads)
    t_import = time.perf_counter() - t_import
    n_comp = SPEC["nseg"]
    n_steps = proto.n_steps
    work = args.batch * n_comp * n_steps  # compartment-steps per run

    use_neuron = neuron_available() and not args.no_neuron
    print(
        f"HH cable benchmark: B = {args.batch} cables x {n_comp} compartments "
        f"({SPEC['L_um'] / 1000:g} mm x {SPEC['diam_um']:g} um, Ra {SPEC['Ra_ohm_cm']:g} ohm cm, "
        f"cm {SPEC['cm_uF_cm2']:g} uF/cm2), {SPEC['celsius']} degC, dt {SPEC['dt_ms'] * 1000:g} us, "
        f"{SPEC['tstop_ms']:g} ms = {n_steps} steps; {SPEC['stim'][3]:g} nA x {SPEC['stim'][2]:g} ms "
        f"at {SPEC['stim'][0]} from {SPEC['stim'][1]:g} ms; {args.threads} threads; "
        f"{args.rounds} alternating rounds"
    )
    versions = (
        f"neurosim {neurosim.__version__} (numba {numba.__version__}), python "
        f"{platform.python_version()}, {platform.machine()}"
    )
    if use_neuron:
        from neuron import __version__ as neuron_version

        versions += f"; NEURON {neuron_version}"
    print(versions)

    load = kernel_load(make, args.batch)
    stats = ", ".join(f"{k}: {h} hit / {m} miss" for k, (h, m) in load["stats"].items())
    print(
        f"neurosim kernel compile/cache-load: {load['first_s'] - load['later_s']:.3f} s "
        f"(first call in this process {load['first_s']:.3f} s, later calls "
        f"{load['later_s']:.3f} s, B = {load['size']}); imports and model file {t_import:.3f} s"
    )
    print(
        f"numba cache: {'HIT' if load['hit'] else 'MISS (compiled)'} ({stats}; threading "
        f"layer {_threading_layer()}; "
        f"{load['files_before']} cable.*.nbi/.nbc files in {load['cache_dir']} before the run, "
        f"written during it: {', '.join(load['written']) or 'none'})"
    )

    nrn = None
    if use_neuron:
        t0 = time.perf_counter()
        nrn = NeuronBench(args.batch, args.threads)
        print(f"NEURON model built in {time.perf_counter() - t0:.2f} s (not timed below)")
    elif not args.no_neuron:
        print("NEURON is not installed: neurosim only")

    runs: dict[str, list[tuple[float, float]]] = {"neurosim": [], "exact": [], "tables": []}
    for r in range(args.rounds):
        sim = make()
        runs["neurosim"].append(time_neurosim(sim))
        del sim
        parts = [_fmt("neurosim", *runs["neurosim"][-1], work)]
        if nrn is not None:
            for key, usetable in (("exact", 0), ("tables", 1)):
                time.sleep(PAUSE_S)
                runs[key].append(nrn.run(usetable))
                parts.append(_fmt(f"NEURON {key}", *runs[key][-1], work))
        print(f"round {r + 1}: " + " | ".join(parts), flush=True)
        time.sleep(PAUSE_S)

    labels = {
        "neurosim": "neurosim",
        "exact": "NEURON, exact rates (usetable_hh=0)",
        "tables": "NEURON, rate tables (usetable_hh=1)",
    }
    rates = {}
    for key, label in labels.items():
        if not runs[key]:
            continue
        rates[key] = statistics.median(work / s for s, _ in runs[key])
        cv = statistics.median(c for _, c in runs[key])
        best = min(s for s, _ in runs[key])
        print(
            f"{label:<38} {rates[key]:.4g} compartment-steps/s (median of {len(runs[key])}; "
            f"fastest run {best:.3f} s), CV {cv:.6f} m/s"
        )
    if "exact" in rates:
        print(f"neurosim / NEURON with rate tables: {rates['neurosim'] / rates['tables']:.3f}")
        print(f"ratio: {rates['neurosim'] / rates['exact']:.3f}")
    else:
        print("ratio: n/a (NEURON not run)")
    return 0


def _threading_layer() -> str:
    import numba

    try:
        return numba.threading_layer()
    except ValueError:  # no threaded kernel has run in this process
        return "not started"


def _fmt(name: str, seconds: float, cv: float, work: int) -> str:
    return f"{name} {seconds:.3f} s ({work / seconds:.3g}/s, CV {cv:.4f})"


if __name__ == "__main__":
    sys.exit(main())
