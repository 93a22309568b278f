"""Evaluators: what a sweep runs for a chunk of points, one per kind of target file.

A target file is a model file (``models/**``: target type ``"model"``) or an experiment
file (``experiments/**``: target type ``"experiment"``). Each target type has an
:class:`Evaluator`; new types register one with :func:`register_evaluator` and list the
module in :data:`EVALUATORS` (imported on first use).

An experiment kind becomes sweepable by defining, in its module (the one named in
:data:`neurosim.experiments.KINDS`)::

    SWEEP_OUTPUTS = {"rate_hz": "Hz", "cramp": "1"}      # or sweep_outputs(cfg) -> dict

    def check_parameters(cfg: dict, names: list[str]) -> dict[str, Field]:
        '''Field (kind = unit dimension, allowed range) of every swept dotted key;
        ValueError naming the first unknown key.'''

    def evaluate_points(cfg: dict, points: list[dict], seeds: list[int]) -> list[dict[str, float]]:
        '''One dict of outputs per point (same order), keys exactly SWEEP_OUTPUTS.'''

    def sweep_provenance(cfg: dict) -> dict:              # optional: e.g. {"dt_ms": 0.025}

``cfg`` is the parsed experiment file (as :func:`neurosim.experiments.load_experiment`
returns it; ``cfg["_path"]`` is its absolute path). A point maps each swept dotted key to
a TOML-shaped value in the key's internal unit (``"12.5 um"``, ``0.3``, ``40``), so
``neurosim.sweep.with_point(cfg, point)`` is the experiment file as if written with those
values and the kind's own reader checks it. ``seeds[j]`` is point j's seed.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable
from pathlib import Path

from neurosim.modelfile import Field

__all__ = [
    "Evaluator",
    "EVALUATORS",
    "TARGET_TABLES",
    "register_evaluator",
    "get_evaluator",
    "detect_target_type",
    "normalise_outputs",
]

#: target type -> module that registers its evaluator (imported lazily)
EVALUATORS: dict[str, str] = {
    "model": "neurosim.sweep.model",
    "experiment": "neurosim.sweep.evaluators",
}
#: top-level table of a target file -> its target type (first match wins)
TARGET_TABLES: dict[str, str] = {"experiment": "experiment", "model": "model"}
_REGISTRY: dict[str, type[Evaluator]] = {}


class Evaluator:
    """Base class of a sweep evaluator. A subclass provides:

    1. ``load(path) -> cfg``: the parsed target file (picklable: it is shipped to workers).
    2. ``check_parameters(cfg, names) -> {name: Field}``: the kind and allowed range of
       every swept dotted key; :class:`ValueError` naming an unknown key. Runs before any
       point does.
    3. ``outputs(cfg) -> {name: attrs}``: the scalar outputs per point, each with at least
       ``"units"`` (``"1"`` if dimensionless).
    4. ``evaluate(cfg, points, seeds, threads) -> [ {output: float} ]``: a chunk of points
       (TOML-shaped values in internal units, see :func:`neurosim.sweep.with_point`), as
       few runs as possible (batched).

    Optional: ``check_point(cfg, point)`` (a cheap full check of one point; default: none)
    and ``provenance(cfg) -> dict`` (dt and the like, stored with the results).
    """

    target_type: str = ""

    def load(self, path: Path) -> dict:
        raise NotImplementedError

    def check_parameters(self, cfg: dict, names: list[str]) -> dict[str, Field]:
        raise NotImplementedError

    def outputs(self, cfg: dict) -> dict[str, dict]:
        raise NotImplementedError

    def evaluate(
        self, cfg: dict, points: list[dict], seeds: list[int], threads: int | None = None
    ) -> list[dict[str, float]]:
        raise NotImplementedError

    def check_point(self, cfg: dict, point: dict) -> None:
        return None

    def provenance(self, cfg: dict) -> dict:
        return {}


def register_evaluator(target_type: str) -> Callable[[type[Evaluator]], type[Evaluator]]:
    """Class decorator: make ``target_type`` sweepable with this evaluator."""

    def deco(cls: type[Evaluator]) -> type[Evaluator]:
        cls.target_type = target_type
        _REGISTRY[target_type] = cls
        return cls

    return deco


def get_evaluator(target_type: str) -> Evaluator:
    """A fresh evaluator of ``target_type`` (importing its module on first use)."""
    if target_type not in _REGISTRY and target_type in EVALUATORS:
        importlib.import_module(EVALUATORS[target_type])
    if target_type not in _REGISTRY:
        raise ValueError(
            f"`sweep.target_type` = {target_type!r} is not known; valid: "
            f"{', '.join(sorted(set(EVALUATORS) | set(_REGISTRY)))}"
        )
    return _REGISTRY[target_type]()


def detect_target_type(path: Path) -> str:
    """The target type of a file from its top-level tables (see :data:`TARGET_TABLES`)."""
    with Path(path).open("rb") as fh:
        try:
            cfg = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    for table, ttype in TARGET_TABLES.items():
        if isinstance(cfg.get(table), dict):
            return ttype
    raise ValueError(
        f"{path}: cannot tell what kind of target this is (no "
        f"{' or '.join(f'[{t}]' for t in TARGET_TABLES)} table); set `sweep.target_type`"
    )


def normalise_outputs(outputs: dict) -> dict[str, dict]:
    """``{name: "Hz"}`` or ``{name: {"units": "Hz", ...}}`` -> ``{name: attrs}``."""
    if not isinstance(outputs, dict) or not outputs:
        raise ValueError(
            f"sweep outputs must be a non-empty dict of name -> units, got {outputs!r}"
        )
    out = {}
    for name, spec in outputs.items():
        attrs = {"units": spec} if isinstance(spec, str) else dict(spec)
        if "units" not in attrs:
            raise ValueError(f"sweep output {name!r} has no `units`")
        if name in ("point", "done", "seed"):
            raise ValueError(f"sweep output name {name!r} is reserved")
        out[name] = attrs
    return out


@register_evaluator("experiment")
class ExperimentEvaluator(Evaluator):
    """Experiment files whose kind's module defines ``evaluate_points`` (module docstring)."""

    def load(self, path: Path) -> dict:
        from neurosim.experiments import load_experiment

        cfg = load_experiment(path)
        cfg["_path"] = str(Path(path).resolve())
        return cfg

    def _module(self, cfg: dict):
        from neurosim.experiments import KINDS

        kind = cfg["experiment"]["kind"]
        mod = importlib.import_module(KINDS[kind])
        missing = [f for f in ("evaluate_points", "check_parameters") if not hasattr(mod, f)] + (
            []
            if hasattr(mod, "SWEEP_OUTPUTS") or hasattr(mod, "sweep_outputs")
            else ["SWEEP_OUTPUTS"]
        )
        if missing:
            raise ValueError(
                f"experiment kind {kind!r} cannot be swept: its module {mod.__name__} does not "
                f"define {', '.join(missing)} (see neurosim.sweep.evaluators)"
            )
        return mod

    def check_parameters(self, cfg: dict, names: list[str]) -> dict[str, Field]:
        fields = self._module(cfg).check_parameters(cfg, list(names))
        for n in names:
            if not isinstance(fields.get(n), Field):
                raise ValueError(
                    f"experiment kind {cfg['experiment']['kind']!r}: check_parameters gave no "
                    f"Field for {n!r}"
                )
        return fields

    def outputs(self, cfg: dict) -> dict[str, dict]:
        mod = self._module(cfg)
        outs = mod.sweep_outputs(cfg) if hasattr(mod, "sweep_outputs") else mod.SWEEP_OUTPUTS
        return normalise_outputs(outs)

    def evaluate(self, cfg, points, seeds, threads=None):
        if threads is not None:
            from neurosim.simulate.cable import set_threads

            set_threads(threads)
        return self._module(cfg).evaluate_points(cfg, points, [int(s) for s in seeds])

    def check_point(self, cfg: dict, point: dict) -> None:
        mod = self._module(cfg)
        if hasattr(mod, "check_point"):
            mod.check_point(cfg, point)

    def provenance(self, cfg: dict) -> dict:
        mod = self._module(cfg)
        return dict(mod.sweep_provenance(cfg)) if hasattr(mod, "sweep_provenance") else {}
