"""Shared reading of root-stage experiment files (compression + axon population).

Tables::

    [compression]
    file = "../models/compression/cuff_ischaemia.toml"   # relative to the experiment file
    [compression.set]                                    # optional overrides of its keys
    "schedule.hold" = "13 min"

    [[axons]]
    kind = "sensory"
    model = "../models/axon/human_sensory.toml"
    n = 8
    grade = [0.9, 1.0]       # fraction of the lesion pressure each axon feels (optional)

    [run]
    duration = "25 min"
    nodes = 21               # nodes of each simulated axon segment
    dt = "25 us"
    window = "20 ms"
    slow_dt = "5 s"
    firing_step = "1 s"      # longest slow step while axons fire (steps still obey the
                             # concentration tolerance)
    firing_average = "0 ms"  # span over which a firing axon's window currents are
                             # averaged for the slow layer (0: the last window)
    track_every = "1 min"    # threshold tracking ("0 s": none)
    sample = "10 s"          # time grid of the saved result
    seed = 1

    [ions]                   # optional: overrides of the compression file's [ions]
"""

from __future__ import annotations

from pathlib import Path

from neurosim.modelfile import Field, read_table

__all__ = ["RUN_FIELDS", "read_root", "save_dataset"]

_POS = {"lo": 0.0, "lo_open": True}
RUN_FIELDS = {
    "duration": Field("time", **_POS, doc="protocol length"),
    "nodes": Field("int", default=21, lo=5, hi=1001, doc="nodes per simulated axon"),
    "dt": Field("time", default=0.025, **_POS, hi=0.1, doc="fine time step"),
    "window": Field("time", default=20.0, **_POS, doc="fast window of the multi-rate scheme"),
    "slow_dt": Field("time", default=5000.0, **_POS, doc="longest slow step"),
    "firing_step": Field(
        "time", default=1000.0, **_POS, doc="longest slow step after a window with spikes"
    ),
    "firing_average": Field(
        "time", default=0.0, lo=0.0, doc="span of window averaging for axons that fire"
    ),
    "track_every": Field("time", default=60_000.0, lo=0.0, doc="threshold tracking interval"),
    "sample": Field("time", default=10_000.0, **_POS, doc="time grid of the saved result"),
    "seed": Field("int", default=0, lo=0, hi=2**32 - 1, doc="seed of the pressure grades"),
    "threads": Field("int", default=0, lo=0, hi=1024, doc="kernel threads (0: all)"),
}
AXON_FIELDS = {
    "kind": Field("str", doc="label, e.g. motor or sensory"),
    "model": Field("str", doc="axon model file, relative to the experiment file"),
    "n": Field("int", default=8, lo=1, hi=100_000, doc="axons of this kind"),
    "grade": Field("list", default=[1.0, 1.0], doc="range of the pressure fraction felt"),
    "set": Field("table", default={}, doc="overrides of the axon model file"),
}


def _resolve(base: Path, rel: str, key: str) -> Path:
    p = (base / rel).resolve()
    if not p.is_file():
        raise ValueError(f"`{key}` = {rel!r}: no such file ({p})")
    return p


#: top-level tables of a root-stage experiment file (besides ``[experiment]``)
ROOT_TABLES = ("compression", "axons", "run", "ions")


def read_root(cfg: dict, *, run_extra: dict | None = None, axon_set: dict | None = None):
    """Compression file, axon groups and run keywords of a root-stage experiment.

    ``axon_set`` holds overrides applied to every axon model before each group's own
    ``set`` (e.g. the gating shift of a scenario's electrolytes).

    Returns
    -------
    compression : CompressionFile
    groups : list of AxonGroup
    run : dict
        Checked ``[run]`` values in internal units (ms), plus ``ions`` overrides.
    """
    from neurosim.compression.load import load_compression
    from neurosim.simulate.root import AxonGroup, root_axon

    base = Path(cfg["_path"]).parent
    comp = cfg.get("compression")
    if not isinstance(comp, dict) or "file" not in comp:
        raise ValueError("missing [compression] table with a `file` key")
    unknown = set(comp) - {"file", "set"}
    if unknown:
        raise ValueError(f"unknown key(s) in [compression]: {sorted(unknown)}; allowed: file, set")
    compression = load_compression(
        _resolve(base, comp["file"], "compression.file"), dict(comp.get("set", {}))
    )
    run = read_table(cfg.get("run", {}), {**RUN_FIELDS, **(run_extra or {})}, "run")
    axons = cfg.get("axons")
    if not isinstance(axons, list) or not axons:
        raise ValueError("missing [[axons]] tables (one per axon kind)")
    groups = []
    for i, a in enumerate(axons):
        a = read_table(a, AXON_FIELDS, f"axons[{i}]")
        grade = a["grade"]
        if len(grade) != 2 or not all(isinstance(x, int | float) for x in grade):
            raise ValueError(f"`axons[{i}].grade` = {grade!r} must be two numbers [low, high]")
        model = root_axon(
            _resolve(base, a["model"], f"axons[{i}].model"),
            run["nodes"],
            {**(axon_set or {}), **a["set"]},
        )
        groups.append(AxonGroup(a["kind"], model, a["n"], tuple(grade)))
    run["ions"] = dict(cfg.get("ions", {}))
    return compression, groups, run


def root_kwargs(run: dict) -> dict:
    """Keywords of :func:`neurosim.simulate.root.simulate_root` from a ``[run]`` table."""
    return {
        "ions": run["ions"],
        "dt": run["dt"],
        "window": run["window"],
        "slow_dt": run["slow_dt"],
        "firing_step": min(run["firing_step"], run["slow_dt"]),
        "firing_average": run["firing_average"],
        "track_every": run["track_every"] or None,
        "sample": run["sample"],
        "seed": run["seed"],
        "threads": run["threads"] or None,
    }


def save_dataset(ds, path: Path) -> Path:
    """Write a Dataset as NetCDF (attributes made NetCDF-safe)."""
    ds = ds.copy()
    for k, v in list(ds.attrs.items()):
        if not isinstance(v, str | int | float):
            ds.attrs[k] = str(v)
    for name in ds.variables:
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path)
    return path
