"""Sweep files: ``experiments/sweeps/*.toml`` -> a checked :class:`SweepSpec` and its points.

Layout of a sweep file::

    [sweep]
    name = "hh_gnabar_diam"                # default: the file's stem
    description = "..."                    # optional
    target = "../../models/cable/hh_cable.toml"   # relative to the sweep file
    target_type = "model"                  # optional: inferred from the target's tables
    method = "grid"                        # "grid" (full factorial), "random" or "lhs"
    samples = 100                          # random / lhs only
    seed = 1                               # base seed of the design and of every point
    chunk = 8                              # points per task (one batched run)

    [parameters]
    "mechanisms.hh.gnabar" = { range = ["0.08 S/cm2", "0.16 S/cm2"], n = 5 }
    "morphology.diam" = { values = ["5 um", "10 um", "20 um"] }
    "protocol.stimulus[0].amp" = { range = [1, 100], scale = "log", n = 4 }  # nA

Every parameter is a dotted key into the target file (``name[i]`` indexes an array of
tables). Values are quantity strings (``"10 um"``) or bare numbers in the key's internal
unit (:mod:`neurosim.units`); the target's evaluator says what unit each key has and
refuses unknown keys (:meth:`neurosim.sweep.evaluators.Evaluator.check_parameters`).

Per-point seeds come from :class:`numpy.random.SeedSequence` with the sweep seed as
entropy and the point index as spawn key, so a point's seed depends on neither the
chunking, nor the executor, nor on whether the sweep was resumed. Its outputs depend
on neither the executor nor a resume (the chunks stay the same), but a batched target
may tie them to the chunking: the root stage runs a chunk as one batch whose members
share slow steps, so its outputs move with ``chunk`` within the multi-rate error
(``benchmarks/sweep_chunking.py`` compares two chunkings of the compression sweep).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.modelfile import Field
from neurosim.units import INTERNAL, UNITS
from neurosim.validate import check_keys

__all__ = [
    "SweepSpec",
    "ParameterSpec",
    "load_sweep",
    "split_key",
    "set_dotted",
    "get_dotted",
    "with_point",
    "point_seeds",
    "toml_value",
    "METHODS",
]

METHODS = ("grid", "random", "lhs")
SCALES = ("linear", "log")
SWEEP_KEYS = ("name", "description", "target", "target_type", "method", "samples", "seed", "chunk")
PARAM_KEYS = ("values", "range", "scale", "n")
#: parameter kinds a sweep can vary (dimensions of neurosim.units plus plain scalars)
SWEEPABLE = (*UNITS, "float", "int", "str", "bool")

_TOKEN = re.compile(r"^([^\[\]]+)((?:\[\d+\])*)$")


def split_key(key: str) -> list[str | int]:
    """``"protocol.stimulus[0].amp"`` -> ``["protocol", "stimulus", 0, "amp"]``.

    Raises
    ------
    ValueError
        An empty part or malformed index.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"parameter name {key!r} must be a non-empty dotted key")
    out: list[str | int] = []
    for part in key.split("."):
        m = _TOKEN.match(part)
        if m is None:
            raise ValueError(
                f"parameter name {key!r}: part {part!r} is not a key or key[index] "
                f"(e.g. 'protocol.stimulus[0].amp')"
            )
        out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def _walk(cfg: dict, key: str, create: bool):
    parts = split_key(key)
    node = cfg
    for depth, part in enumerate(parts[:-1]):
        here = ".".join(str(p) for p in parts[:depth]) or "<file>"
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                n = len(node) if isinstance(node, list) else 0
                raise ValueError(f"`{key}`: index [{part}] is out of range ({here} has {n} items)")
            node = node[part]
        else:
            if create and isinstance(node, dict) and part not in node:
                node[part] = {}  # a table the file leaves out (all defaults)
            if not isinstance(node, dict) or not isinstance(node.get(part), (dict, list)):
                tables = (
                    [k for k, v in node.items() if isinstance(v, (dict, list))]
                    if isinstance(node, dict)
                    else []
                )
                raise ValueError(
                    f"`{key}`: no table {part!r} in {here}; tables there: "
                    f"{', '.join(tables) or 'none'}"
                )
            node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        raise ValueError(f"`{key}`: a parameter must end in a key, not an index")
    if not isinstance(node, dict):
        raise ValueError(f"`{key}`: {'.'.join(map(str, parts[:-1]))} is not a table")
    if not create and last not in node:
        raise KeyError(key)
    return node, last


def set_dotted(cfg: dict, key: str, value) -> None:
    """Set ``key`` (dotted, with ``[i]`` indices) in a parsed TOML dict, in place."""
    node, last = _walk(cfg, key, create=True)
    node[last] = value


def get_dotted(cfg: dict, key: str, default=None):
    """The value at a dotted key, or ``default`` if the last key is absent."""
    try:
        node, last = _walk(cfg, key, create=False)
    except KeyError:
        return default
    return node[last]


def with_point(cfg: dict, point: dict) -> dict:
    """A deep copy of a parsed target file with a point's values set (TOML-shaped)."""
    out = copy.deepcopy(cfg)
    for key, value in point.items():
        set_dotted(out, key, value)
    return out


def toml_value(fld: Field, value):
    """An internal-unit value as it would be written in a TOML file for ``fld``."""
    if fld.kind in UNITS:
        unit = INTERNAL[fld.kind]
        return f"{float(value):.17g} {unit}" if unit != "1" else float(value)
    if fld.kind == "float":
        return float(value)
    if fld.kind == "int":
        return int(value)
    if fld.kind == "bool":
        return bool(value)
    return str(value)


def point_seeds(seed: int, indices) -> np.ndarray:
    """Seed of each point: ``SeedSequence(seed, spawn_key=(i,))``, as uint32 -> int64."""
    return np.array(
        [
            int(np.random.SeedSequence(seed, spawn_key=(int(i),)).generate_state(1)[0])
            for i in indices
        ],
        dtype=np.int64,
    )


@dataclass
class ParameterSpec:
    """One swept key: its field (kind, unit, range) and the values it may take.

    ``values`` holds the grid/list values in internal units; for random and LHS designs
    a ``range`` parameter keeps ``lo``/``hi`` and draws from them.
    """

    name: str
    fld: Field
    values: list | None = None
    lo: float | None = None
    hi: float | None = None
    scale: str = "linear"
    n: int | None = None

    @property
    def unit(self) -> str:
        return INTERNAL.get(self.fld.kind, "1") if self.fld.kind in UNITS else "1"

    @property
    def dtype(self):
        return {"int": np.int64, "str": object, "bool": bool}.get(self.fld.kind, np.float64)

    def describe(self) -> dict:
        d = {"name": self.name, "kind": self.fld.kind, "unit": self.unit, "scale": self.scale}
        if self.values is not None:
            d["values"] = [_jsonable(v) for v in self.values]
        if self.lo is not None:
            d["range"] = [self.lo, self.hi]
        if self.n is not None:
            d["n"] = self.n
        return d


def _jsonable(v):
    if isinstance(v, (np.integer, int)) and not isinstance(v, bool):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    return str(v)


@dataclass
class SweepSpec:
    """A checked sweep: where its target is, how it samples, and the resolved points.

    Attributes
    ----------
    points : dict of str to ndarray, shape (n_points,)
        One array per parameter, in internal units, in file order.
    seeds : ndarray of int64, shape (n_points,)
    """

    path: Path
    text: str
    name: str
    description: str
    target: Path
    target_type: str
    target_cfg: dict
    method: str
    samples: int | None
    seed: int
    chunk: int
    parameters: list[ParameterSpec]
    points: dict = field(default_factory=dict)
    seeds: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    raw: dict = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return int(self.seeds.shape[0])

    @property
    def n_chunks(self) -> int:
        return -(-self.n_points // self.chunk)

    def chunk_slice(self, c: int) -> slice:
        return slice(c * self.chunk, min((c + 1) * self.chunk, self.n_points))

    def point(self, i: int) -> dict:
        """Point ``i`` as TOML-shaped values (quantities as strings in internal units)."""
        return {p.name: toml_value(p.fld, self.points[p.name][i]) for p in self.parameters}

    def fingerprint(self) -> str:
        """Identity of the sweep for resuming: parsed sweep file + target file contents."""
        blob = json.dumps(
            {"sweep": self.raw, "target": _sha256(self.target.read_bytes())},
            sort_keys=True,
            default=str,
        )
        return _sha256(blob.encode())


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _number(p: str, what: str, value, fld: Field) -> float:
    """A range end or list value in the key's internal unit (range-checked)."""
    key = f"parameters.{p}.{what}"
    if fld.kind in UNITS and isinstance(value, (int, float)) and not isinstance(value, bool):
        unit = INTERNAL[fld.kind]
        value = f"{value!r} {unit}" if unit != "1" else float(value)
    return fld.read(value, key)


def _resolve_parameter(name: str, table, fld: Field, method: str) -> ParameterSpec:
    where = f"parameters.{name}"
    if not isinstance(table, dict):
        raise ValueError(
            f"`{where}` must be a table like {{ values = [...] }} or {{ range = [lo, hi], n = N }}"
        )
    check_keys(f"[{where}]", table.keys(), PARAM_KEYS, [])
    if fld.kind not in SWEEPABLE:
        raise ValueError(f"`{name}` is a {fld.kind} key; only scalar keys can be swept")
    has_values, has_range = "values" in table, "range" in table
    if has_values == has_range:
        raise ValueError(f"`{where}` needs exactly one of `values` or `range`")
    scale = table.get("scale", "linear")
    if scale not in SCALES:
        raise ValueError(f"`{where}.scale` = {scale!r}; valid: {', '.join(SCALES)}")
    n = table.get("n")
    if has_values:
        for k in ("n", "scale"):
            if k in table:
                raise ValueError(f"`{where}.{k}` applies to a `range`, not to `values`")
        vals = table["values"]
        if not isinstance(vals, list) or not vals:
            raise ValueError(f"`{where}.values` = {vals!r} is empty; give at least one value")
        out = [_number(name, f"values[{i}]", v, fld) for i, v in enumerate(vals)]
        if len(set(out)) != len(out):
            raise ValueError(f"`{where}.values` = {vals!r} repeats a value")
        return ParameterSpec(name, fld, values=out, scale=scale)
    if fld.kind in ("str", "bool"):
        raise ValueError(f"`{where}`: a {fld.kind} key takes `values`, not a `range`")
    rng = table["range"]
    if not isinstance(rng, list) or len(rng) != 2:
        raise ValueError(f"`{where}.range` = {rng!r} must be [lo, hi]")
    lo, hi = (_number(name, f"range[{i}]", v, fld) for i, v in enumerate(rng))
    if not hi > lo:
        raise ValueError(f"`{where}.range` = {rng!r} is empty: it needs lo < hi")
    if scale == "log" and lo <= 0:
        raise ValueError(f"`{where}.range` = {rng!r}: a log scale needs lo > 0")
    spec = ParameterSpec(name, fld, lo=lo, hi=hi, scale=scale)
    if method == "grid":
        if n is None:
            raise ValueError(f"`{where}`: a grid over a range needs `n` (number of values)")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"`{where}.n` = {n!r} must be an integer >= 1")
        if n == 1:
            grid = np.array([lo])
        elif scale == "log":
            grid = np.geomspace(lo, hi, n)
        else:
            grid = np.linspace(lo, hi, n)
        if fld.kind == "int":
            grid = np.round(grid).astype(np.int64)
            if len(set(grid.tolist())) != n:
                raise ValueError(
                    f"`{where}`: {n} integer values in {rng!r} would repeat; lower `n`"
                )
        spec.values = [int(v) if fld.kind == "int" else float(v) for v in grid]
        spec.n = n
    elif n is not None:
        raise ValueError(f"`{where}.n` is only used by grid sweeps (method = {method!r})")
    return spec


def _design(params: list[ParameterSpec], method: str, samples: int | None, seed: int) -> dict:
    """Per-parameter arrays of point values (internal units)."""
    if method == "grid":
        combos = list(itertools.product(*(p.values for p in params)))
        return {
            p.name: np.array([c[j] for c in combos], dtype=p.dtype) for j, p in enumerate(params)
        }
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    out = {}
    for p in params:
        if method == "random":
            q = rng.random(samples)
        else:  # Latin hypercube: one draw per stratum, strata shuffled per parameter
            q = (rng.permutation(samples) + rng.random(samples)) / samples
        if p.values is not None:
            idx = np.minimum((q * len(p.values)).astype(np.int64), len(p.values) - 1)
            out[p.name] = np.array([p.values[i] for i in idx], dtype=p.dtype)
            continue
        if p.scale == "log":
            x = np.exp(np.log(p.lo) + q * (np.log(p.hi) - np.log(p.lo)))
        else:
            x = p.lo + q * (p.hi - p.lo)
        x = np.clip(x, p.lo, p.hi)
        out[p.name] = np.round(x).astype(np.int64) if p.fld.kind == "int" else x
    return out


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file; resolve its target, parameters, points and seeds.

    Every check runs here, before any point is evaluated: unknown ``[sweep]`` keys,
    unknown parameter names (asked of the target's evaluator), empty lists and ranges,
    values out of the key's allowed range, a missing target file.

    Raises
    ------
    FileNotFoundError
        The sweep file or its target does not exist.
    ValueError
        Anything else wrong, naming the key and the value.
    """
    from neurosim.sweep.evaluators import detect_target_type, get_evaluator

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep file {str(path)!r} does not exist")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    check_keys(f"{path}", raw.keys(), ("sweep", "parameters"), ("sweep", "parameters"))
    sw = raw["sweep"]
    if not isinstance(sw, dict):
        raise ValueError(f"{path}: `sweep` must be a table")
    check_keys("[sweep]", sw.keys(), SWEEP_KEYS, ["target"])
    method = sw.get("method", "grid")
    if method not in METHODS:
        raise ValueError(f"`sweep.method` = {method!r} is not known; valid: {', '.join(METHODS)}")
    samples = sw.get("samples")
    if method == "grid":
        if samples is not None:
            raise ValueError(
                "`sweep.samples` is for random and lhs sweeps; a grid runs every combination"
            )
    elif isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"`sweep.samples` = {samples!r}: a {method} sweep needs an integer >= 1")
    seed = sw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`sweep.seed` = {seed!r} must be an integer >= 0")
    chunk = sw.get("chunk", 8)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or not 1 <= chunk <= 100_000:
        raise ValueError(f"`sweep.chunk` = {chunk!r} must be an integer in [1, 100000]")
    name = sw.get("name", path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ValueError(f"`sweep.name` = {name!r}: use letters, digits, '_', '-', '.'")
    target_rel = sw["target"]
    if not isinstance(target_rel, str):
        raise ValueError(f"`sweep.target` = {target_rel!r} must be a path string")
    target = (path.parent / target_rel).resolve()
    if not target.is_file():
        raise FileNotFoundError(
            f"`sweep.target` = {target_rel!r}: {target} does not exist (paths are relative "
            f"to the sweep file)"
        )
    params_t = raw["parameters"]
    if not isinstance(params_t, dict) or not params_t:
        raise ValueError(f"{path}: [parameters] is empty; give at least one swept key")

    target_type = sw.get("target_type") or detect_target_type(target)
    evaluator = get_evaluator(target_type)
    cfg = evaluator.load(target)
    names = list(params_t)
    for n in names:
        split_key(n)
    fields = evaluator.check_parameters(cfg, names)
    missing = [n for n in names if n not in fields]
    if missing:
        raise ValueError(f"evaluator {target_type!r} gave no field for {', '.join(missing)}")
    params = [_resolve_parameter(n, params_t[n], fields[n], method) for n in names]
    points = _design(params, method, samples, seed)
    n_points = len(next(iter(points.values())))
    spec = SweepSpec(
        path=path.resolve(),
        text=text,
        name=name,
        description=str(sw.get("description", "")),
        target=target,
        target_type=target_type,
        target_cfg=cfg,
        method=method,
        samples=samples,
        seed=seed,
        chunk=chunk,
        parameters=params,
        points=points,
        seeds=point_seeds(seed, range(n_points)),
        raw=raw,
    )
    # one load with the first point: catches what a per-key check cannot (combinations)
    evaluator.check_point(cfg, spec.point(0))
    return spec
