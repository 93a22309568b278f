"""Throughput of a batch of MRG axons: neurosim against NEURON on equal parallelism.

The case of issue 3: a 10 um McIntyre-Richardson-Grill double-cable axon with 41 nodes
(441 sections of one compartment), a batch of 256 axons, dt 5 us, 20 ms, backward Euler,
37 degC, a 2 nA / 0.1 ms stimulus at node[0] of every axon.

``--model`` picks the membrane: ``mrg`` (models/axon/mrg.toml, channels at the nodes
only) or the human axons the root experiments use, ``human_motor`` / ``human_sensory``
(models/axon/human_*.toml: fast K, slow K and HCN in every internodal compartment too).
Human axons start from their resting state on both sides (found before the timing:
neurosim's resting-state search, NEURON's relaxation in tests/reference/human_neuron.py).

* neurosim: one batched run of all axons with ``--threads`` numba threads.
* NEURON (the optional peer): the same equations built by tests/reference/mrg_neuron.py
  (human axons: tests/reference/human_neuron.py).
  NEURON refuses threads with the ``extracellular`` mechanism ("NrnDAE only one thread
  allowed"), so it gets the same parallelism as ``--threads`` worker processes, each
  integrating batch/threads axons, one after another (its fastest way: see
  ``_neuron_worker``). Expect minutes per NEURON round for the full case.

The two run alternately, ``--rounds`` times; only the integration is timed (building,
``finitialize`` and neurosim's initialisation are excluded; neurosim's kernel compile or
cache load is timed and reported separately). Rates are compartment-steps per second
(axons x 451 compartments x steps / wall time); the median over rounds is reported and
the last line is ``ratio: X`` (neurosim rate / NEURON rate). Each side also reports the
conduction velocity it measured (node[10] -> node[30] of the first axon).

    .venv/bin/python benchmarks/mrg_throughput.py [--model mrg] [--threads 2] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "reference"
MODELS = ("mrg", "human_motor", "human_sensory")  # models/axon/NAME.toml

DIAMETER = 10.0  # um
CELSIUS = 37.0  # degC
V_INIT = -80.0  # mV
STIM = (0.5, 0.1, 2.0)  # delay (ms), duration (ms), amplitude (nA) at node[0]
CV_NODES = (10, 30)


def crossing(t: np.ndarray, v: np.ndarray) -> float:
    """First upward 0 mV crossing (ms), linearly interpolated; NaN if none."""
    k = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0))
    if not k.size:
        return float("nan")
    k = k[0]
    return float(t[k] + (0 - v[k]) / (v[k + 1] - v[k]) * (t[k + 1] - t[k]))


# --------------------------------------------------------------------------- NEURON side
def _neuron_axon(model: str, nodes: int):
    """One NEURON axon of ``model``.

    Returns
    -------
    secs : dict
        Sections by type ("node", "mysa", "flut", "stin").
    clamp : IClamp
        At node[0], amplitude not yet set.
    reset : callable
        Puts the axon at its starting state after ``h.finitialize(V_INIT)``: nothing for
        MRG (which rests at V_INIT), the relaxed resting state for a human axon.
    spacing : float
        Node spacing (um).
    """
    sys.path.insert(0, str(REFERENCE))
    import mrg_neuron as ref  # noqa: PLC0415 (NEURON stays an optional peer)
    from neuron import h  # noqa: PLC0415

    ref.load_mechanisms()
    geo = ref.geometry(DIAMETER)
    if model == "mrg":
        secs = ref.build_axon(ref.section_properties(geo), n_nodes=nodes)
        return secs, h.IClamp(secs["node"][0](0.5)), lambda: None, geo["spacing"]
    import human_neuron as human  # noqa: PLC0415

    secs = human.build_axon(human.section_properties(geo, human.VARIANTS[model]), n_nodes=nodes)
    state, _ = human.relax_to_rest(secs, CELSIUS)
    return secs, secs["clamps"][0], lambda: human.restore(secs, state), geo["spacing"]


def _neuron_worker(
    conn, model: str, n_axons: int, nodes: int, dt: float, tstop: float, record: bool
):
    """A NEURON process owning ``n_axons`` axons; integrates them on request.

    NEURON's time per compartment grows with the number of ``extracellular`` cells in
    one process (it solves them as one sparse system: here 1 axon ~4 times faster per
    compartment than 16 axons together), so the worker integrates its axons one after
    another, each from ``finitialize`` (not timed) through ``n_steps`` fixed steps
    (timed). The axons are identical, so one built axon is integrated ``n_axons`` times;
    a human axon is set to its resting state after ``finitialize`` (not timed).
    """
    from neuron import h  # noqa: PLC0415

    t_build = time.perf_counter()
    secs, clamp, reset, spacing = _neuron_axon(model, nodes)
    clamp.delay, clamp.dur, clamp.amp = STIM
    n_comp = sum(len(secs[k]) for k in ("node", "mysa", "flut", "stin"))
    h.celsius = CELSIUS
    h.secondorder = 0
    h.dt = dt
    if record:
        t_vec = h.Vector().record(h._ref_t)
        recs = [h.Vector().record(secs["node"][i](0.5)._ref_v) for i in CV_NODES]
    t_build = time.perf_counter() - t_build
    n_steps = round(tstop / dt)
    conn.send(("ready", n_comp, t_build))
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            break
        elapsed = 0.0
        cv = float("nan")
        for k in range(n_axons):
            h.finitialize(V_INIT)
            reset()
            if record:
                h.frecord_init()
            t0 = time.perf_counter()
            for _ in range(n_steps):
                h.fadvance()
            elapsed += time.perf_counter() - t0
            if record and k == 0:
                t = t_vec.as_numpy()
                ta, tb = (crossing(t, r.as_numpy()) for r in recs)
                cv = (CV_NODES[1] - CV_NODES[0]) * spacing / (tb - ta) * 1e-3
        conn.send(("done", elapsed, cv))
    conn.close()


class NeuronPool:
    """``workers`` NEURON processes sharing a batch of axons."""

    def __init__(self, model: str, workers: int, batch: int, nodes: int, dt: float, tstop: float):
        ctx = mp.get_context("spawn")
        share = [batch // workers + (1 if i < batch % workers else 0) for i in range(workers)]
        self.conns, self.procs = [], []
        replies = []
        for i, n in enumerate(share):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_neuron_worker, args=(child, model, n, nodes, dt, tstop, i == 0))
            p.start()
            self.conns.append(parent)
            self.procs.append(p)
            if i == 0:
                # the first worker compiles the .mod files if needed (a fresh clone);
                # the others start once it is ready, so they never compile concurrently
                replies.append(parent.recv())
        replies += [c.recv() for c in self.conns[1:]]
        self.n_comp = replies[0][1]
        self.build_time = max(r[2] for r in replies)

    def run(self) -> tuple[float, float]:
        """Integrate every worker's axons at once; (time in s, CV of axon 0)."""
        for c in self.conns:
            c.send("run")
        replies = [c.recv() for c in self.conns]
        # the slowest worker's own integration time (the wall time of the parallel run
        # without pipe latency and finitialize)
        return max(r[1] for r in replies), replies[0][2]

    def close(self):
        for c in self.conns:
            c.send("stop")
        for p in self.procs:
            p.join(timeout=30)


# ------------------------------------------------------------------------- neurosim side
class NeurosimRun:
    """The same batch as one neurosim run."""

    def __init__(self, model: str, threads: int, batch: int, nodes: int, dt: float, tstop: float):
        from neurosim.simulate import CableSimulation, Protocol, Stimulus  # noqa: PLC0415
        from neurosim.simulate.cable import set_threads  # noqa: PLC0415
        from neurosim.simulate.load import load_model  # noqa: PLC0415

        set_threads(threads)
        self.threads = threads
        mf = load_model(
            ROOT / "models" / "axon" / f"{model}.toml",
            {
                "fiber.diameter": f"{DIAMETER} um",
                "fiber.nodes": nodes,
                "model.celsius": f"{CELSIUS} degC",
            },
        )
        self.model = mf.model
        self.protocol = Protocol(
            tstop=tstop,
            dt=dt,
            stimuli=(Stimulus("node[0]", *STIM),),
            detect=tuple(f"node[{i}]" for i in CV_NODES),
            cv=tuple(f"node[{i}]" for i in CV_NODES),
        )
        self.batch = {"celsius": np.full(batch, CELSIUS)}
        self._sim = CableSimulation
        # kernel compile / cache load: the first call of the kernels, on a tiny run
        t0 = time.perf_counter()
        tiny = Protocol(tstop=dt, dt=dt, detect=("node[0]",))
        self._sim(self.model, tiny, threads=threads).initialize().advance(1)
        self.compile_time = time.perf_counter() - t0
        self.n_comp = self.model.morphology.n

    def run(self) -> tuple[float, float]:
        sim = self._sim(self.model, self.protocol, self.batch, threads=self.threads).initialize()
        t0 = time.perf_counter()
        sim.advance(self.protocol.n_steps)
        elapsed = time.perf_counter() - t0
        cv = float(sim.result().conduction_velocity()[0])
        return elapsed, cv


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=MODELS, default="mrg", help="axon model (models/axon)")
    ap.add_argument("--threads", type=int, default=2, help="neurosim threads = NEURON processes")
    ap.add_argument("--batch", type=int, default=256, help="axons")
    ap.add_argument("--nodes", type=int, default=41, help="nodes of Ranvier per axon")
    ap.add_argument("--tstop", type=float, default=20.0, help="ms")
    ap.add_argument("--dt", type=float, default=0.005, help="ms")
    ap.add_argument("--rounds", type=int, default=3, help="alternating timed rounds")
    ap.add_argument("--quick", action="store_true", help="CI smoke: 16 axons, 2 ms, 1 round")
    args = ap.parse_args(argv)
    if args.quick:
        args.batch, args.tstop, args.rounds = 16, 2.0, 1
    if args.threads < 1 or args.batch < args.threads or args.rounds < 1:
        ap.error("need threads >= 1, batch >= threads, rounds >= 1")
    n_steps = round(args.tstop / args.dt)

    print(
        f"{args.model} {DIAMETER:g} um, {args.nodes} nodes, batch {args.batch}, dt {args.dt * 1000:g} us, "
        f"{args.tstop:g} ms ({n_steps} steps), {CELSIUS:g} degC, parallelism {args.threads}"
    )
    ns = NeurosimRun(args.model, args.threads, args.batch, args.nodes, args.dt, args.tstop)
    print(
        f"neurosim: {ns.n_comp} compartments/axon; kernel compile/cache load {ns.compile_time:.2f} s"
    )
    pool = NeuronPool(args.model, args.threads, args.batch, args.nodes, args.dt, args.tstop)
    print(
        f"NEURON:   {pool.n_comp} sections/axon, {args.threads} processes, axons in turn; "
        f"build {pool.build_time:.2f} s (not timed)"
    )
    if pool.n_comp != ns.n_comp:
        raise SystemExit(f"compartment counts differ: NEURON {pool.n_comp}, neurosim {ns.n_comp}")
    work = args.batch * ns.n_comp * n_steps
    t_ns, t_nrn, cv_ns, cv_nrn = [], [], float("nan"), float("nan")
    try:
        for r in range(args.rounds):
            a, cv_ns = ns.run()
            b, cv_nrn = pool.run()
            t_ns.append(a)
            t_nrn.append(b)
            print(f"round {r + 1}: neurosim {a:.3f} s, NEURON {b:.3f} s")
    finally:
        pool.close()
    rate_ns = work / statistics.median(t_ns)
    rate_nrn = work / statistics.median(t_nrn)
    print(f"neurosim: {rate_ns / 1e6:.2f} M compartment-steps/s (median), CV {cv_ns:.4f} m/s")
    print(f"NEURON:   {rate_nrn / 1e6:.2f} M compartment-steps/s (median), CV {cv_nrn:.4f} m/s")
    print(f"ratio: {rate_ns / rate_nrn:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
