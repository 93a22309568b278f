"""The axon stage of a compressed root: motor and sensory axons under one compression.

A root holds groups of axons (motor, sensory), each group one batched
:class:`~neurosim.simulate.ionic.IonicSimulation` of one axon model under one
compression file. Members of a group differ by where they lie in the root's
cross-section: each gets a pressure ``grade`` (the fraction of the lesion pressure that
reaches it; central fascicles feel more than peripheral ones) drawn reproducibly from the
root's seed. Along the run the stage records, per axon:

- pressure, blood flow, O2, [K]o (endoneurial and periaxonal), [Na]i and the membrane
  potential at the lesion centre (slow samples, interpolated onto one time grid);
- the threshold of a test pulse at the lesion (threshold tracking, every
  ``track_every``), as clinical neurophysiology measures ischaemia;
- every spike, and the ectopic events found in them (origin, direction, time): what the
  spinal cord and the muscle receive.

:func:`simulate_root` returns a :class:`RootResult`; ``RootResult.dataset()`` is the
labelled form (an :class:`xarray.Dataset`) the experiments save.
"""

from __future__ import annotations

import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

import neurosim
from neurosim import ectopic as ect
from neurosim.excitability import state_threshold
from neurosim.ions import read_ions
from neurosim.simulate.cable import set_threads
from neurosim.simulate.ionic import IonicResult, IonicSimulation, ion_pools
from neurosim.validate import check_int, check_positive, check_range

__all__ = ["AxonGroup", "RootResult", "simulate_root", "concat_ionic", "root_axon"]

#: O2 in mM -> mg/L (32 g/mol)
O2_MG_PER_L = 32.0


@dataclass
class AxonGroup:
    """One kind of axon in the root.

    Parameters
    ----------
    kind : str
        Label ("motor", "sensory").
    model : ModelFile
        A myelinated axon model file (``models/axon/*.toml``), loaded with the nodes and
        ends wanted (see :func:`root_axon`).
    n : int
        Number of axons.
    grade : (float, float)
        Range of the fraction of the lesion pressure each axon feels (uniform draws).
    """

    kind: str
    model: object
    n: int
    grade: tuple = (1.0, 1.0)

    def __post_init__(self) -> None:
        check_int(f"{self.kind}.n", self.n, 1, 100_000)
        lo, hi = (float(x) for x in self.grade)
        check_range(f"{self.kind}.grade", lo, 0.0, 5.0, unit="")
        check_range(f"{self.kind}.grade", hi, lo, 5.0, unit="")
        self.grade = (lo, hi)


def root_axon(path, nodes: int = 21, overrides: dict | None = None):
    """Load an axon model file for the root stage: ``nodes`` nodes, mid-internode ends
    (no sealed-end effects), no stimulus, nodes as detection sites."""
    from neurosim.simulate.load import load_model

    base = {
        "fiber.nodes": int(nodes),
        "fiber.ends": "internode",
        "protocol.stimulus": [],
        "protocol.cv": [],
        "protocol.record": ["node[0]"],
    }
    return load_model(path, {**base, **(overrides or {})})


def concat_ionic(parts: list[IonicResult]) -> IonicResult:
    """Join consecutive :meth:`IonicSimulation.run` results of one simulation (each part
    repeats the previous part's last sample as its first)."""
    if not parts:
        raise ValueError("concat_ionic: no parts")
    first = parts[0]
    t = [first.t] + [p.t[1:] for p in parts[1:]]
    traces = {
        k: np.concatenate([first.traces[k]] + [p.traces[k][..., 1:] for p in parts[1:]], axis=-1)
        for k in first.traces
    }
    return IonicResult(
        t=np.concatenate(t),
        sites=first.sites,
        traces=traces,
        spike_sites=first.spike_sites,
        spike_positions=first.spike_positions,
        spikes=np.concatenate([p.spikes for p in parts]),
        windows=np.concatenate([p.windows for p in parts]),
        batch=first.batch,
        meta=first.meta,
    )


@dataclass
class GroupResult:
    """One group's run: the ionic result, driver history, thresholds and ectopic events."""

    kind: str
    grade: np.ndarray
    ionic: IonicResult
    history: dict
    track_t: np.ndarray
    threshold: np.ndarray  # (B, K) nA
    conduction: np.ndarray  # (B, K) ms across the segment; NaN: blocked or collided
    events: object
    summary: list
    lesion_site: str
    wall_s: float


@dataclass
class RootResult:
    """The axon stage of a root: one :class:`GroupResult` per kind, and provenance."""

    groups: list[GroupResult]
    duration_ms: float
    sample_ms: float
    meta: dict = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        return [g.kind for g in self.groups]

    def group(self, kind: str) -> GroupResult:
        for g in self.groups:
            if g.kind == kind:
                return g
        raise KeyError(f"no axon group {kind!r}; groups: {self.kinds}")

    def ectopic_events(self, t0: float = 0.0, t1: float = np.inf) -> dict:
        """Ectopic events of every axon in [t0, t1) as flat arrays: ``axon`` (root-wide
        index), ``kind``, ``time`` (ms), ``direction`` (:class:`neurosim.ectopic.Direction`),
        ``reaches_cord``, ``reaches_muscle``, ``weight`` (real time a sampled window's
        event stands for / window length)."""
        out = {k: [] for k in ("axon", "kind", "time", "direction", "cord", "muscle", "weight")}
        offset = 0
        for g in self.groups:
            ev = g.events
            sel = ev.ectopic & (ev.time >= t0) & (ev.time < t1)
            w = g.ionic.windows
            k = np.searchsorted(w[:, 0], ev.time[sel], side="right") - 1
            out["axon"].append(ev.member[sel] + offset)
            out["kind"].append(np.full(int(sel.sum()), g.kind, dtype=object))
            out["time"].append(ev.time[sel])
            out["direction"].append(ev.direction[sel])
            out["cord"].append(ev.reaches_cord[sel])
            out["muscle"].append(ev.reaches_muscle[sel])
            out["weight"].append(w[k, 2] / w[k, 1] if len(k) else np.zeros(0))
            offset += len(g.grade)
        return {
            "axon": np.concatenate(out["axon"]).astype(int),
            "kind": np.concatenate(out["kind"]),
            "time": np.concatenate(out["time"]),
            "direction": np.concatenate(out["direction"]).astype(int),
            "reaches_cord": np.concatenate(out["cord"]).astype(bool),
            "reaches_muscle": np.concatenate(out["muscle"]).astype(bool),
            "weight": np.concatenate(out["weight"]),
        }

    def ectopic_rate(self, kind: str, t0: float = 0.0, t1: float = np.inf) -> np.ndarray:
        """Ectopic event rate (Hz) of each axon of a group over [t0, t1), over the time
        actually observed (the fast windows)."""
        g = self.group(kind)
        T = g.ionic.observed_time(t0, t1)
        ev = g.events
        sel = ev.ectopic & (ev.time >= t0) & (ev.time < t1)
        n = np.bincount(ev.member[sel], minlength=len(g.grade))
        return n / (T * 1e-3) if T > 0 else np.zeros(len(g.grade))

    def dataset(self):
        """The labelled result (:class:`xarray.Dataset`).

        Dimensions: ``axon`` (every axon of the root, with coordinates ``kind`` and
        ``grade``), ``time`` (s, the common sample grid), ``track_time`` (s, threshold
        tracking), ``event`` (ectopic events).
        """
        import xarray as xr

        t_grid = np.arange(0.0, self.duration_ms + 0.5 * self.sample_ms, self.sample_ms)
        per = {k: [] for k in ("pressure", "flow", "o2", "ko", "ko_film", "nai", "v", "rate")}
        thr, thr_rel, kinds, grades = [], [], [], []
        track_t = self.groups[0].track_t
        for g in self.groups:
            r = g.ionic
            B = len(g.grade)
            tr = r.traces

            def interp(y, r=r):
                return np.stack([np.interp(t_grid, r.t, y[b]) for b in range(y.shape[0])])

            h = g.history
            if "pressure" in h and len(h["t"]):
                # each slow step's mean pressure, placed at the step's middle
                ht = h["t"] + 0.5 * h["dt"]
                p = h["pressure"][..., 0]
            else:
                ht, p = np.array([0.0]), np.zeros((1, B))
            per["pressure"].append(np.stack([np.interp(t_grid, ht, p[:, b]) for b in range(B)]))
            per["flow"].append(interp(tr["flow"][:, 0]))
            per["o2"].append(interp(tr["o2"][:, 0]) * O2_MG_PER_L)
            per["ko"].append(interp(tr["ko"][:, 0]))
            per["ko_film"].append(interp(tr["ko"][:, 1]))
            per["nai"].append(interp(tr["nai"][:, 0]))
            per["v"].append(interp(tr["v"][:, 0]))
            rate = np.zeros((B, t_grid.size))
            for i in range(t_grid.size):
                t0 = t_grid[i] - self.sample_ms
                if i:
                    rate[:, i] = self.ectopic_rate(g.kind, t0, t_grid[i])
            per["rate"].append(rate)
            thr.append(g.threshold)
            with np.errstate(divide="ignore", invalid="ignore"):
                thr_rel.append(100.0 * (g.threshold / g.threshold[:, :1] - 1.0))
            kinds += [g.kind] * B
            grades.append(g.grade)
        units = {
            "pressure": ("mmHg", "pressure at the lesion centre"),
            "flow": ("1", "intraneural blood flow at the lesion centre, relative to normal"),
            "o2": ("mg/L", "O2 at the lesion centre"),
            "ko": ("mM", "endoneurial [K]o at the lesion centre"),
            "ko_film": ("mM", "periaxonal [K] under the myelin at the lesion centre"),
            "nai": ("mM", "[Na]i at the lesion centre"),
            "v": ("mV", "membrane potential at the lesion-centre node (window mean)"),
            "rate": ("Hz", "ectopic event rate over the preceding sample interval"),
        }
        data = {}
        for k, (u, d) in units.items():
            data[k] = (("axon", "time"), np.concatenate(per[k]), {"units": u, "long_name": d})
        data["threshold"] = (
            ("axon", "track_time"),
            np.concatenate(thr),
            {"units": "nA", "long_name": "threshold of a 0.5 ms pulse at the lesion"},
        )
        data["threshold_change"] = (
            ("axon", "track_time"),
            np.concatenate(thr_rel),
            {"units": "%", "long_name": "threshold change from the start"},
        )
        ev = self.ectopic_events()
        data["conduction_time"] = (
            ("axon", "track_time"),
            np.concatenate([g.conduction for g in self.groups]),
            {
                "units": "ms",
                "long_name": "conduction time across the segment (NaN: blocked or collided)",
            },
        )
        data["event_axon"] = (("event",), ev["axon"])
        data["event_time"] = (("event",), ev["time"] * 1e-3, {"units": "s"})
        data["event_direction"] = (
            ("event",),
            ev["direction"],
            {"long_name": "direction", "flags": "0 local, 1 to cord, 2 to muscle, 3 both"},
        )
        data["event_weight"] = (("event",), ev["weight"])
        coords = {
            "axon": np.arange(len(kinds)),
            "kind": ("axon", np.array(kinds)),
            "grade": ("axon", np.concatenate(grades)),
            "time": ("time", t_grid * 1e-3, {"units": "s"}),
            "track_time": ("track_time", track_t * 1e-3, {"units": "s"}),
        }
        attrs = {
            k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in self.meta.items()
        }
        return xr.Dataset(data, coords=coords, attrs=attrs)


def _grades(group: AxonGroup, rng: np.random.Generator) -> np.ndarray:
    lo, hi = group.grade
    if hi == lo:
        return np.full(group.n, lo)
    return np.sort(rng.uniform(lo, hi, group.n))


def _lesion_node(model, driver) -> str:
    """The node nearest the centre of the lesion's first level."""
    iv = driver.lesion.intervals(float(driver.grid.hi[-1]), driver.node_position)
    centre = 0.5 * (iv[0][0] + iv[0][1])
    morph = model.morphology
    nodes = [s.name for s in morph.sections if s.name.startswith("node[")]
    pos = np.array([model_position(model, n) for n in nodes])
    return nodes[int(np.argmin(np.abs(pos - centre)))]


def model_position(model, site: str) -> float:
    """Path distance (um) of a site from the axon's start."""
    morph = model.morphology
    return float(morph.geometry.position[morph.compartment(site)])


def simulate_root(
    compression,
    groups: list[AxonGroup],
    duration: float,
    *,
    ions: dict | None = None,
    dt: float = 0.025,
    window: float = 20.0,
    slow_dt: float = 5000.0,
    firing_step: float | None = None,
    firing_average: float = 0.0,
    track_every: float | None = 60_000.0,
    track_dt: float = 0.025,
    sample: float = 5000.0,
    seed: int = 0,
    grade=None,
    threads: int | None = None,
    progress=None,
) -> RootResult:
    """Run the axon stage of a compressed root.

    Parameters
    ----------
    compression : CompressionFile
        Lesion, pressure schedule, flow law, damage law and ``[ions]`` settings.
    groups : list of AxonGroup
    duration : float
        Protocol length (ms).
    ions : dict, optional
        ``[ions]`` keys overriding the compression file's (quantity strings).
    dt, window, slow_dt, firing_step, firing_average : float
        Fine step, fast window, longest slow step, longest slow step while firing and
        the span over which a firing axon's window currents are averaged (ms): see
        :class:`IonicSimulation`.
    track_every : float or None
        Threshold-tracking interval (ms); None: no tracking.
    track_dt : float
        Time step of the threshold test runs (ms).
    sample : float
        Spacing of the common time grid of :meth:`RootResult.dataset` (ms).
    seed : int
        Seed of the per-axon pressure grades.
    grade : array (n,), optional
        Pressure grade of every axon of every group (instead of the groups' random
        draws), e.g. the pressures of a grid.
    progress : callable, optional
        ``progress(kind, t_ms)`` after every slow step.

    Returns
    -------
    RootResult
    """
    duration = float(check_positive("duration", duration, "ms"))
    sample = float(check_positive("sample", sample, "ms"))
    if track_every is not None:
        track_every = float(check_range("track_every", track_every, window, unit="ms"))
    if not groups:
        raise ValueError("`groups` must name at least one axon group")
    names = [g.kind for g in groups]
    if len(set(names)) != len(names):
        raise ValueError(f"axon group kinds must be unique, got {names}")
    table = {**compression.source.get("ions", {}), **(ions or {})}
    params = read_ions(table)
    rng = np.random.default_rng(seed)
    grades = []
    for group in groups:
        if grade is None:
            g_axons = _grades(group, rng)
        else:
            g_axons = np.asarray(grade, dtype=float)
            if g_axons.shape != (group.n,) or not np.all(np.isfinite(g_axons)) or g_axons.min() < 0:
                raise ValueError(
                    f"`grade` must be {group.n} finite non-negative values (one per axon of "
                    f"group {group.kind!r}), got shape {g_axons.shape}"
                )
        grades.append(g_axons)

    def run_group(group, g_axons, threads=threads):
        t_start = _time.perf_counter()
        driver = compression.driver(grade=g_axons)
        model = group.model.model
        # the lesion centre, from a preview binding of the lesion to this axon
        site = _lesion_node(model, compression.driver().bind(model, ion_pools(model), 1))
        stin = _film_site(model, site)
        isim = IonicSimulation(
            [model] * group.n,
            params,
            dt=dt,
            window=window,
            slow_dt=slow_dt,
            firing_step=firing_step,
            firing_average=firing_average,
            drivers=[driver],
            threads=threads,
            trace_sites=(site, stin),
        )
        detect_far = _far_node(model, site)
        parts, track_t, thr, cond = [], [], [], []
        cond_sites = _conduction_sites(model)

        last = []  # the previous measurement: the next search starts around it

        def measure(isim=isim, site=site, detect_far=detect_far, last=last):
            def search(members=None, lo=0.01, hi=50.0):
                return state_threshold(
                    isim.sim,
                    site=site,
                    detect=detect_far,
                    members=members,
                    duration=0.5,
                    rtol=5e-3,
                    dt=track_dt,
                    amp_min=lo,
                    amp_max=hi,
                    threads=threads,
                ).threshold

            prev = last[-1] if last else None
            if prev is None or not np.all(np.isfinite(prev)):
                thr = search()
            else:
                # thresholds move by well under WARM_SPAN per tracking interval; a search
                # bracket around the last value takes half the rounds of the full range.
                # Below the bracket the bisection continues down from 0; above it (inf)
                # the full range is searched again for those axons.
                thr = search(None, prev / WARM_SPAN, prev * WARM_SPAN)
                miss = np.flatnonzero(~np.isfinite(thr))
                if miss.size:
                    thr[miss] = search(miss)
            last.append(thr)
            return thr

        cb = None if progress is None else (lambda t, k=group.kind: progress(k, t))
        marks = _marks(duration, track_every)
        if track_every is not None:
            track_t.append(0.0)
            thr.append(measure())
            cond.append(conduction_time(isim.sim, *cond_sites, dt=dt, threads=threads))
        t = 0.0
        for m in marks:
            parts.append(isim.run(m - t, progress=cb))
            t = m
            if track_every is not None and _is_mark(m, track_every):
                track_t.append(m)
                thr.append(measure())
                cond.append(conduction_time(isim.sim, *cond_sites, dt=dt, threads=threads))
        ionic = concat_ionic(parts)
        events, summary = ect.analyse(ionic, cord_end=compression.lesion.cord_end)
        return GroupResult(
            kind=group.kind,
            grade=g_axons,
            ionic=ionic,
            history=driver.history,
            track_t=np.array(track_t),
            threshold=np.stack(thr, axis=1) if thr else np.zeros((group.n, 0)),
            conduction=np.stack(cond, axis=1) if cond else np.zeros((group.n, 0)),
            events=events,
            summary=summary,
            lesion_site=site,
            wall_s=_time.perf_counter() - t_start,
        )

    # Groups run side by side, one thread each, in the kernels' serial loop (which
    # releases the GIL): measured on the 64-axon cuff, this beats spreading each group's
    # blocks over the cores, whose short fast windows the parallel loop cannot amortise.
    n_threads = set_threads(threads)
    if len(groups) > 1 and n_threads > 1:
        with ThreadPoolExecutor(max_workers=min(n_threads, len(groups))) as pool:
            out = list(pool.map(run_group, groups, grades, [1] * len(groups)))
    else:
        out = [run_group(g, ga) for g, ga in zip(groups, grades, strict=True)]
    meta = {
        "compression": compression.name,
        "duration_s": duration * 1e-3,
        "dt_ms": dt,
        "window_ms": window,
        "slow_dt_ms": slow_dt,
        "seed": int(seed),
        "neurosim": neurosim.__version__,
        "ions": str({k: v for k, v in table.items()}),
    }
    return RootResult(groups=out, duration_ms=duration, sample_ms=sample, meta=meta)


#: half-width (factor) of the warm-started threshold search around the last threshold
WARM_SPAN = 1.6


def _conduction_sites(model) -> tuple[str, str]:
    """Stimulation and far detection nodes of the conduction test: the second node and
    the second-last (away from the cut ends)."""
    nodes = [s.name for s in model.morphology.sections if s.name.startswith("node[")]
    return nodes[1], nodes[-2]


def conduction_time(
    sim, start: str, end: str, *, amplitude: float = 5.0, dt: float = 0.025, threads=None
):
    """Conduction time (ms) from ``start`` to ``end`` of an action potential evoked at
    ``start`` (0.1 ms pulse of ``amplitude`` nA) in the present state of every member of
    a running simulation; NaN where it does not arrive within 10 ms (block, or collision).

    The pulse is ~10x the resting threshold of a 0.1 ms pulse of the human axons, so a
    failure to arrive means block, not failure to excite.

    An axon that fires ectopically carries its own spikes past both sites. The test is
    therefore run twice from the same state, with and without the pulse (the runs are
    deterministic and agree spike for spike until the pulse acts): the evoked spike at
    ``start`` is the first spike of the stimulated run from the pulse on that the
    unstimulated run does not have, and the evoked spike at ``end`` the first such spike
    after it. An evoked spike that collides with an ectopic one does not arrive: NaN,
    as in a real conduction study across a firing segment (unless the collision resets
    the ectopic pacemaker so that its next spike reaches ``end`` at a new time within
    the 10 ms, which is then read as the evoked one).
    """
    from neurosim.simulate.protocol import Protocol, Stimulus

    onset = 0.1
    runs = []
    for amp in (amplitude, 0.0):
        proto = Protocol(
            tstop=10.0,
            dt=dt,
            stimuli=(Stimulus(start, onset, 0.1, amp),),
            record=(),
            detect=(start, end),
            max_spikes=64,
        )
        rep = sim.replicate(proto, np.arange(sim.k.B), threads=threads)
        rep.advance(proto.n_steps)
        runs.append((rep.spk_n.copy(), rep.spk_t.copy()))
    (n_s, t_s), (n_c, t_c) = runs
    k = np.arange(t_s.shape[2])
    # (B, D, spikes): a stimulated-run spike the unstimulated run also has (same time up
    # to round-off) is not the evoked one
    own = (k < n_c[..., None])[..., None, :]  # the unstimulated run's recorded spikes
    shared = ((np.abs(t_s[..., :, None] - t_c[..., None, :]) < 0.5 * dt) & own).any(axis=-1)
    new = (k < n_s[..., None]) & ~shared

    def evoked(site, after):
        ok = new[:, site] & (t_s[:, site] >= after[:, None])
        first = np.argmax(ok, axis=1)
        return np.where(ok.any(axis=1), t_s[np.arange(sim.k.B), site, first], np.nan)

    t0 = evoked(0, np.full(sim.k.B, onset))
    with np.errstate(invalid="ignore"):
        return evoked(1, np.where(np.isfinite(t0), t0, np.inf)) - t0


def _marks(duration: float, every: float | None) -> list[float]:
    if every is None:
        return [duration]
    marks = list(np.arange(every, duration, every))
    return [float(m) for m in marks] + [duration]


def _is_mark(t: float, every: float) -> bool:
    k = round(t / every)
    return k >= 1 and abs(t - k * every) < 1e-6 * every


def _far_node(model, site: str) -> str:
    """A node five nodes from ``site`` (towards the longer side): the conduction check
    of the threshold test."""
    nodes = [s.name for s in model.morphology.sections if s.name.startswith("node[")]
    i = nodes.index(site)
    j = i + 5 if i + 5 < len(nodes) else max(i - 5, 0)
    return nodes[j]


def _film_site(model, node: str) -> str:
    """The middle internodal (STIN) compartment next to ``node``: where the periaxonal
    film's [K] is reported."""
    morph = model.morphology
    stins = [s.name for s in morph.sections if s.name.startswith("stin[")]
    if not stins:
        return node
    x = model_position(model, node)
    pos = np.array([model_position(model, s) for s in stins])
    ahead = np.where(pos > x, pos - x, np.inf)
    # the STIN half-way to the next node
    cand = np.argsort(ahead)[:6]
    return stins[int(cand[min(2, len(cand) - 1)])]
