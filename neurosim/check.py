"""Regression checks: rerun named scenarios and compare their metrics with a baseline.

A baseline file (JSON) lists scenarios (experiment files, relative to the baseline
file) and, per scenario, metrics with a stored value and a tolerance band::

    {
      "description": "quick standard scenarios",
      "scenarios": [
        {
          "experiment": "hh_fi_curve.toml",
          "name": "hh_fi_curve",                      # optional: must match the file
          "metrics": {
            "rate_hz[2]": {"value": 100.0, "abs": 0.5, "rel": 0.01},
            "cv_m_per_s[1]": {"value": 0.9903, "rel": 0.001},
            "model": {"value": "hh_cable"}
          }
        }
      ]
    }

A metric key is a dotted path into :attr:`ExperimentReport.metrics
<neurosim.experiments.ExperimentReport>` (``thresholds_hz.normal.intact``), with
``[i]`` indexing lists. A numeric metric passes when ``|now - value| <= abs +
rel * |value|`` (both default 0: exact); ``null`` (no value, e.g. no propagated spike)
passes only when the metric is also absent/NaN; strings and booleans must be equal.

:func:`run_check` returns a :class:`CheckReport`; ``neurosim check`` prints its table
and exits 1 on drift, 2 on bad input. The pytest plugin :mod:`neurosim.testing` does the
same inside a test suite.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from neurosim.sweep.spec import split_key

__all__ = ["run_check", "load_baseline", "CheckReport", "CheckRow", "lookup_metric"]

_METRIC_KEYS = ("value", "abs", "rel")
_SCENARIO_KEYS = ("experiment", "name", "metrics")


@dataclass
class CheckRow:
    """One compared metric."""

    scenario: str
    metric: str
    baseline: object
    now: object
    abs: float = 0.0
    rel: float = 0.0

    @property
    def band(self) -> str:
        if not _is_number(self.baseline):
            return "exact"
        parts = []
        if self.abs:
            parts.append(f"±{self.abs:g}")
        if self.rel:
            parts.append(f"±{self.rel * 100:g}%")
        return " + ".join(parts) or "exact"

    @property
    def ok(self) -> bool:
        b, n = self.baseline, self.now
        if b is None or (isinstance(b, float) and math.isnan(b)):
            return n is None or (isinstance(n, float) and math.isnan(n))
        if _is_number(b):
            if not _is_number(n) or math.isnan(float(n)):
                return False
            return abs(float(n) - float(b)) <= self.abs + self.rel * abs(float(b))
        return b == n


@dataclass
class CheckReport:
    """Every compared metric of a baseline file."""

    baseline: Path
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def drifted(self) -> list[CheckRow]:
        return [r for r in self.rows if not r.ok]

    def table(self) -> str:
        """A readable table: scenario, metric, baseline, now, band, ok/DRIFT."""
        head = ("scenario", "metric", "baseline", "now", "band", "status")
        body = [
            (r.scenario, r.metric, _fmt(r.baseline), _fmt(r.now), r.band, "ok" if r.ok else "DRIFT")
            for r in self.rows
        ]
        widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
        out = [line(head).rstrip(), "  ".join("-" * w for w in widths)]
        out += [line(b).rstrip() for b in body]
        n_bad = len(self.drifted)
        out.append(
            f"{len(self.rows) - n_bad}/{len(self.rows)} metrics within their bands"
            + (f"; {n_bad} DRIFTED" if n_bad else "")
        )
        return "\n".join(out)


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _fmt(x) -> str:
    if x is None:
        return "-"
    if _is_number(x):
        return f"{x:.6g}"
    return str(x)


def lookup_metric(metrics: dict, key: str):
    """The value at a dotted key (``a.b[2].c``) of nested metrics.

    Raises
    ------
    KeyError
        With the part that is missing and what is there instead.
    """
    node = metrics
    path = []
    for part in split_key(key):
        here = ".".join(path) or "<metrics>"
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                n = len(node) if isinstance(node, list) else "no"
                raise KeyError(f"[{part}] is out of range ({here} has {n} items)")
            node = node[part]
            path.append(f"[{part}]")
        else:
            if not isinstance(node, dict) or part not in node:
                have = ", ".join(sorted(node)) if isinstance(node, dict) else type(node).__name__
                raise KeyError(f"{here} has no key {part!r} (keys: {have})")
            node = node[part]
            path.append(part)
    if isinstance(node, float) and math.isnan(node):
        return None
    return node


def load_baseline(path: str | Path) -> dict:
    """Parse and check a baseline file (structure, paths, bands); no scenario runs.

    Raises
    ------
    FileNotFoundError
        The baseline or a scenario's experiment file does not exist.
    ValueError
        Anything else, naming the key and value.
    """
    from neurosim.experiments import load_experiment

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"baseline file {str(path)!r} does not exist")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise ValueError(f"{path}: expected an object with a `scenarios` list")
    if not data["scenarios"]:
        raise ValueError(f"{path}: `scenarios` is empty")
    for i, sc in enumerate(data["scenarios"]):
        where = f"{path}: scenarios[{i}]"
        if not isinstance(sc, dict):
            raise ValueError(f"{where} must be an object")
        unknown = sorted(set(sc) - set(_SCENARIO_KEYS))
        if unknown:
            raise ValueError(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; valid: "
                f"{', '.join(_SCENARIO_KEYS)}"
            )
        if not isinstance(sc.get("experiment"), str):
            raise ValueError(f"{where}: `experiment` (experiment file path) is missing")
        exp_path = (path.parent / sc["experiment"]).resolve()
        cfg = load_experiment(exp_path)
        name = cfg["experiment"]["name"]
        if "name" in sc and sc["name"] != name:
            raise ValueError(
                f"{where}: `name` = {sc['name']!r} does not match the experiment file "
                f"{sc['experiment']!r}, whose name is {name!r}"
            )
        metrics = sc.get("metrics")
        if not isinstance(metrics, dict) or not metrics:
            raise ValueError(f"{where}: `metrics` must be a non-empty object")
        for key, band in metrics.items():
            mwhere = f"{where}.metrics[{key!r}]"
            split_key(key)
            if not isinstance(band, dict) or "value" not in band:
                raise ValueError(f"{mwhere} must be an object with a `value`")
            extra = sorted(set(band) - set(_METRIC_KEYS))
            if extra:
                raise ValueError(
                    f"{mwhere}: unknown key(s) {', '.join(map(repr, extra))}; valid: "
                    f"{', '.join(_METRIC_KEYS)}"
                )
            for tol in ("abs", "rel"):
                t = band.get(tol, 0.0)
                if not _is_number(t) or not t >= 0 or math.isinf(t):
                    raise ValueError(f"{mwhere}.{tol} = {t!r} must be a finite number >= 0")
        sc["_path"] = exp_path
        sc["_name"] = name
    return data


def run_check(
    baseline: str | Path, update: bool = False, work_dir: str | Path | None = None
) -> CheckReport:
    """Rerun every scenario of a baseline file and compare its metrics.

    Parameters
    ----------
    baseline : str or Path
        The baseline JSON file.
    update : bool
        Write the new values into the baseline file (bands kept).
    work_dir : str or Path, optional
        Where the scenarios write their results (default: a temporary folder, removed).

    Returns
    -------
    CheckReport

    Raises
    ------
    ValueError
        A malformed baseline, or a metric key the scenario does not report.
    """
    from neurosim.experiments import run_experiment

    path = Path(baseline)
    data = load_baseline(path)
    report = CheckReport(path)
    with tempfile.TemporaryDirectory(prefix="neurosim-check-") as tmp:
        root = Path(work_dir) if work_dir is not None else Path(tmp)
        for sc in data["scenarios"]:
            rep = run_experiment(sc["_path"], out_root=root)
            metrics = json.loads(rep.to_json())["metrics"]
            for key, band in sc["metrics"].items():
                try:
                    now = lookup_metric(metrics, key)
                except KeyError as exc:
                    raise ValueError(
                        f"{path}: scenario {sc['_name']!r}: metric {key!r} does not match the "
                        f"scenario's metrics: {exc.args[0]}"
                    ) from None
                report.rows.append(
                    CheckRow(
                        sc["_name"],
                        key,
                        band["value"],
                        now,
                        float(band.get("abs", 0.0)),
                        float(band.get("rel", 0.0)),
                    )
                )
                if update:
                    band["value"] = now
    if update:
        for sc in data["scenarios"]:
            sc.pop("_path")
            sc.pop("_name")
        path.write_text(json.dumps(data, indent=2) + "\n")
    return report
