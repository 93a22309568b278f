"""Model and experiment files: TOML tables read against a declared schema.

A schema is a mapping ``key -> Field``. :func:`read_table` checks a TOML table against
it before anything is built: unknown keys (with the list of valid ones), missing
required keys, missing or wrong units, non-finite numbers and out-of-range values all
raise :class:`ValueError` naming the key (with its dotted path), the value and the
allowed range. Quantities come back as floats in the internal units of
:mod:`neurosim.units`.

Example
-------
>>> fields = {"diam": Field("length", lo=0, lo_open=True, doc="diameter")}
>>> read_table({"diam": "10 um"}, fields, "morphology")
{'diam': 10.0}
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurosim.units import INTERNAL, UNITS, parse_quantity
from neurosim.validate import check_choice, check_int, check_keys, check_range

__all__ = ["Field", "REQUIRED", "read_table", "load_toml", "describe_schema", "merge_tables"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: marker for a field with no default
REQUIRED: Any = _Required()

#: field kinds that are not physical dimensions
_PLAIN = ("int", "float", "str", "bool", "table", "list", "quantity_list")


@dataclass(frozen=True)
class Field:
    """One key of a schema.

    Parameters
    ----------
    kind : str
        A dimension of :data:`neurosim.units.UNITS` (value given as ``"<number> <unit>"``),
        ``"float"`` (a bare number), ``"int"``, ``"str"``, ``"bool"``, ``"table"``,
        ``"list"``, or ``"quantity_list"`` (a list of quantities of dimension ``unit_of``).
    default : object
        Value when the key is absent (already in internal units); :data:`REQUIRED` if none.
    lo, hi : float
        Allowed range in internal units (closed unless ``lo_open``/``hi_open``).
    choices : tuple of str
        For ``"str"`` fields, the allowed values.
    doc : str
        One line for generated documentation and error messages.
    unit_of : str
        The dimension of the items of a ``"quantity_list"``.
    """

    kind: str
    default: Any = REQUIRED
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    doc: str = ""
    unit_of: str = ""

    def __post_init__(self) -> None:
        if self.kind not in UNITS and self.kind not in _PLAIN:
            raise ValueError(f"Field kind {self.kind!r} is not a dimension or one of {_PLAIN}")

    @property
    def unit(self) -> str:
        dim = self.unit_of if self.kind == "quantity_list" else self.kind
        return INTERNAL.get(dim, "")

    def read(self, value: Any, key: str) -> Any:
        """Convert and check one value (internal units)."""
        kind = self.kind
        if kind in UNITS:
            number = parse_quantity(value, kind, key)
            return float(self._check(number, key))
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"`{key}` = {value!r} must be a number")
            return float(self._check(float(value), key))
        if kind == "int":
            lo = -(2**62) if math.isinf(self.lo) else int(self.lo)
            hi = 2**62 if math.isinf(self.hi) else int(self.hi)
            return check_int(key, value, lo, hi)
        if kind == "str":
            if not isinstance(value, str):
                raise TypeError(f"`{key}` = {value!r} must be a string")
            return check_choice(key, value, self.choices) if self.choices else value
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"`{key}` = {value!r} must be true or false")
            return value
        if kind == "table":
            if not isinstance(value, dict):
                raise TypeError(f"`{key}` must be a table, got {type(value).__name__}")
            return value
        if kind == "list":
            if not isinstance(value, list):
                raise TypeError(f"`{key}` must be a list, got {type(value).__name__}")
            return value
        if kind == "quantity_list":
            if not isinstance(value, list) or not value:
                raise TypeError(f"`{key}` must be a non-empty list of quantities")
            return [
                float(self._check(parse_quantity(v, self.unit_of, f"{key}[{i}]"), f"{key}[{i}]"))
                for i, v in enumerate(value)
            ]
        raise AssertionError(kind)  # unreachable: kinds are checked in __post_init__

    def _check(self, number: float, key: str) -> float:
        return check_range(
            key,
            number,
            self.lo,
            self.hi,
            unit=self.unit if self.unit != "1" else "",
            lo_open=self.lo_open,
            hi_open=self.hi_open,
        )


def read_table(
    table: dict, fields: dict[str, Field], where: str, partial: bool = False
) -> dict[str, Any]:
    """Check ``table`` against ``fields``; return every field's value in internal units.

    Parameters
    ----------
    table : dict
        A parsed TOML table.
    fields : dict of str to Field
        The schema.
    where : str
        Dotted path of the table, used as the prefix of every key in error messages.
    partial : bool
        Return only the keys present (no defaults, nothing required): for tables that
        override some values of a declaration.
    """
    if not isinstance(table, dict):
        raise TypeError(f"`{where}` must be a table, got {type(table).__name__}")
    required = [] if partial else [k for k, f in fields.items() if f.default is REQUIRED]
    check_keys(f"[{where}]", table.keys(), fields.keys(), required)
    out: dict[str, Any] = {}
    for key, field in fields.items():
        if key in table:
            out[key] = field.read(table[key], f"{where}.{key}" if where else key)
        elif not partial:
            out[key] = field.default
    return out


def load_toml(path: str | Path) -> dict:
    """Parse a TOML file with a clear error for a missing file or bad syntax."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    with path.open("rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc


def describe_schema(fields: dict[str, Field]) -> str:
    """A Markdown table of a schema (key, unit, default, range, meaning) for the docs."""
    rows = ["| key | unit | default | range | meaning |", "| --- | --- | --- | --- | --- |"]
    for key, f in fields.items():
        default = "required" if f.default is REQUIRED else repr(f.default)
        lo = "(" if f.lo_open else "["
        hi = ")" if f.hi_open else "]"
        rng = f"{lo}{f.lo:g}, {f.hi:g}{hi}" if f.kind in UNITS or f.kind in ("int", "float") else ""
        if f.choices:
            rng = " / ".join(f.choices)
        rows.append(f"| `{key}` | {f.unit} | {default} | {rng} | {f.doc} |")
    return "\n".join(rows)


def merge_tables(base: dict, override: dict) -> dict:
    """Recursively merge ``override`` into a copy of ``base`` (tables merge, values, and
    arrays of tables, replace)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
