"""Experiment drivers: read an experiment file (TOML), run it, save labelled results.

An experiment file names its kind::

    [experiment]
    kind = "electrically_induced_cramp"
    name = "electrically_induced_cramp"     # optional; default: the file's stem

A file may build on another of the same folder (a scenario that changes one thing)::

    [experiment]
    base = "stenosis_standing.toml"         # its tables, with this file's merged over
    description = "... with low Mg and Ca"  # (tables merge, values and arrays replace)
    [electrolytes]
    ca = "0.9 mM"

Each kind is a module in this package that registers a runner with :func:`register`,
naming the top-level tables its files may hold: any other table, or a key of
``[experiment]`` other than ``kind``, ``name``, ``description`` and ``base``, is refused
when the file is loaded (a misspelt table would otherwise be a silently ignored setting).
A runner takes the parsed file (a dict, already checked for the ``experiment`` table)
and an output folder, writes its results and figure there, and returns an
:class:`ExperimentReport` whose ``lines`` the CLI prints.
"""

from __future__ import annotations

import importlib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from neurosim.modelfile import merge_tables
from neurosim.validate import check_keys

__all__ = ["ExperimentReport", "register", "run_experiment", "load_experiment", "KINDS"]


@dataclass
class ExperimentReport:
    """What a run of an experiment file produced.

    Attributes
    ----------
    name : str
        Experiment name (folder name under the output root).
    lines : list of str
        Human-readable summary, one finding per line (the CLI prints these).
    metrics : dict
        Machine-readable numbers (``--json`` prints these; regression checks compare them).
    files : list of Path
        Everything written (results, figures).
    """

    name: str
    lines: list[str] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {"name": self.name, "metrics": self.metrics, "files": [str(f) for f in self.files]},
            indent=2,
            default=float,
        )


Runner = Callable[[dict, Path], ExperimentReport]

#: kind -> module that registers it (imported lazily so one kind's imports never slow another)
KINDS: dict[str, str] = {
    "electrically_induced_cramp": "neurosim.experiments.electrically_induced_cramp",
    "ischaemia_release": "neurosim.experiments.ischaemia_release",
    "posture_schedule": "neurosim.experiments.posture",
    "walking_test": "neurosim.experiments.posture",
    "pressure_duration_grid": "neurosim.experiments.pressure_duration_grid",
    "scenario": "neurosim.experiments.scenario",
    "cable_response": "neurosim.experiments.cable_response",
}
_RUNNERS: dict[str, Runner] = {}
#: kind -> the top-level tables its files may hold (besides ``[experiment]``)
_TABLES: dict[str, tuple[str, ...]] = {}


def register(kind: str, tables: tuple[str, ...]) -> Callable[[Runner], Runner]:
    """Decorator: make ``kind`` runnable from experiment files whose other top-level
    tables are among ``tables`` (any other, e.g. a misspelt one, is refused on loading)."""

    def deco(fn: Runner) -> Runner:
        _RUNNERS[kind] = fn
        _TABLES[kind] = tuple(tables)
        return fn

    return deco


def _read(path: Path, seen: tuple = ()) -> dict:
    """One experiment file merged over its ``experiment.base`` (recursively)."""
    if not path.is_file():
        raise FileNotFoundError(f"experiment file {str(path)!r} does not exist")
    with path.open("rb") as fh:
        try:
            cfg = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    exp = cfg.get("experiment")
    base = exp.get("base") if isinstance(exp, dict) else None
    if base is None:
        return cfg
    if not isinstance(base, str) or Path(base).name != base:
        raise ValueError(
            f"{path}: `experiment.base` = {base!r} must name a file in the same folder "
            "(its relative paths are then those of this file)"
        )
    bpath = path.parent / base
    if bpath.resolve() in seen or bpath.resolve() == path.resolve():
        raise ValueError(f"{path}: `experiment.base` = {base!r} makes a cycle")
    parent = _read(bpath, (*seen, path.resolve()))
    parent.get("experiment", {}).pop("name", None)
    merged = merge_tables(parent, cfg)
    merged["experiment"].pop("base", None)
    return merged


def load_experiment(path: str | Path, overrides: dict | None = None) -> dict:
    """Parse an experiment file (merged over its ``base``, if it names one), set the
    ``overrides`` (dotted keys with ``[i]`` indices, TOML-shaped values, e.g.
    ``{"run.duration": "5 min", "axons[1].n": 4}``) and check its tables."""
    from neurosim.sweep.spec import set_dotted

    path = Path(path)
    cfg = _read(path)
    for key, value in (overrides or {}).items():
        if ".set." in f".{key}":
            raise ValueError(
                f"override {key!r}: the keys of a `set` table are dotted names themselves "
                '(e.g. "lesion.level"); change them in a file that names this one as its '
                "`experiment.base`"
            )
        set_dotted(cfg, key, value)
    exp = cfg.get("experiment")
    if not isinstance(exp, dict) or "kind" not in exp:
        raise ValueError(f"{path}: missing [experiment] table with a `kind` key")
    kind = exp["kind"]
    if kind not in KINDS:
        raise ValueError(
            f"{path}: `experiment.kind` = {kind!r} is not a known kind; "
            f"valid kinds: {', '.join(sorted(KINDS))}"
        )
    if kind not in _RUNNERS:
        importlib.import_module(KINDS[kind])
    check_keys(f"{path}", list(cfg), ("experiment", *_TABLES[kind]))
    check_keys(f"[experiment] of {path}", exp, ("kind", "name", "description"))
    exp.setdefault("name", path.stem)
    cfg["_path"] = str(path)
    return cfg


def run_experiment(
    path: str | Path, out_root: str | Path = "results", overrides: dict | None = None
) -> ExperimentReport:
    """Run an experiment file, with ``overrides`` set (see :func:`load_experiment`);
    results go to ``out_root/<name>/`` (``experiment.name`` may be overridden too), with
    ``experiment.json``: the file, the overrides and the configuration as run (merged
    over its base)."""
    cfg = load_experiment(path, overrides)
    kind = cfg["experiment"]["kind"]
    out = Path(out_root) / cfg["experiment"]["name"]
    out.mkdir(parents=True, exist_ok=True)
    report = _RUNNERS[kind](cfg, out)
    record = {
        "file": str(Path(path).resolve()),
        "overrides": dict(overrides or {}),
        "config": {k: v for k, v in cfg.items() if not k.startswith("_")},
    }
    spath = out / "experiment.json"
    spath.write_text(json.dumps(record, indent=2, default=str))
    report.files.append(spath)
    return report
