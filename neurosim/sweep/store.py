"""The resumable result store of a sweep: an xarray Dataset in a Zarr directory.

Layout: dimension ``point``; one coordinate per swept parameter (internal units in
``attrs["units"]``); one float64 data variable per output (NaN until computed); ``seed``
(the point's seed) and ``done`` (the point's outputs are stored). Every array is chunked
like the sweep (``sweep.chunk`` points), so one sweep chunk is one file per variable.

Crash safety: the store is first written complete (all points pending) to a temporary
directory and renamed into place; a finished chunk is written by the coordinating
process only, outputs first and its ``done`` flags last, each file replaced atomically
(zarr's local store writes to a temporary file and renames). A chunk whose ``done``
flags are not stored is simply run again; a stored one is never run again.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np

import neurosim
from neurosim.sweep.spec import SweepSpec

__all__ = ["SweepStore", "git_commit", "provenance_attrs"]

STORE_FORMAT = "neurosim-sweep/1"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def git_commit() -> str:
    """The git commit of the neurosim source tree (``+dirty`` if modified), or ''."""
    root = Path(neurosim.__file__).resolve().parents[1]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return ""
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""


def provenance_attrs(spec: SweepSpec, outputs: dict, extra: dict) -> dict:
    """Dataset attributes: everything needed to know how the numbers were made.

    Nested values are JSON strings so that the same attributes survive NetCDF export.
    """
    return {
        "format": STORE_FORMAT,
        "sweep_name": spec.name,
        "sweep_description": spec.description,
        "sweep_file": str(spec.path),
        "sweep_text": spec.text,
        "target_file": str(spec.target),
        "target_type": spec.target_type,
        "target_text": spec.target.read_text(),
        "method": spec.method,
        "samples": -1 if spec.samples is None else spec.samples,
        "seed": spec.seed,
        "seed_rule": "point i: numpy.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0]"
        " (variable `seed`)",
        "chunk": spec.chunk,
        "n_points": spec.n_points,
        "parameters": json.dumps([p.describe() for p in spec.parameters]),
        "outputs": json.dumps(outputs),
        "target_provenance": json.dumps(extra, default=str),
        "dt_ms": float(extra["dt_ms"]) if isinstance(extra.get("dt_ms"), (int, float)) else -1.0,
        "fingerprint": spec.fingerprint(),
        "neurosim_version": neurosim.__version__,
        "git_commit": git_commit(),
        "created": _now(),
        "updated": _now(),
    }


class SweepStore:
    """A sweep's Zarr store: create, check on resume, record finished chunks.

    Parameters
    ----------
    path : Path
        The ``.zarr`` directory.
    spec : SweepSpec
    """

    def __init__(self, path: str | Path, spec: SweepSpec):
        self.path = Path(path)
        self.spec = spec
        self._group = None

    # -- opening ----------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def check_matches(self) -> None:
        """Refuse to resume a store written by a different sweep (or a changed target)."""
        import zarr

        try:
            attrs = dict(zarr.open_group(str(self.path), mode="r").attrs)
        except Exception as exc:  # noqa: BLE001 - any unreadable store gets the same message
            raise ValueError(
                f"{self.path} exists but is not a readable sweep store ({exc}); "
                f"remove it or choose another --out"
            ) from exc
        if attrs.get("format") != STORE_FORMAT:
            raise ValueError(f"{self.path} exists but is not a neurosim sweep store")
        if attrs.get("fingerprint") != self.spec.fingerprint():
            old = attrs.get("sweep_file", "?")
            same_text = attrs.get("sweep_text") == self.spec.text
            why = (
                f"the target file {self.spec.target} changed since"
                if same_text
                else f"it was made by a different sweep file ({old})"
            )
            raise ValueError(
                f"{self.path}: cannot resume: {why}; remove the store or give another --out"
            )

    def create(self, outputs: dict, extra: dict) -> None:
        """Write the complete, all-pending store (temporary directory, then rename)."""
        import xarray as xr

        spec = self.spec
        n, c = spec.n_points, spec.chunk
        coords = {"point": ("point", np.arange(n, dtype=np.int64))}
        for p in spec.parameters:
            vals = spec.points[p.name]
            if p.fld.kind == "str":
                vals = vals.astype(str)
            coords[p.name] = (
                "point",
                vals,
                {"units": p.unit, "long_name": p.name, "kind": p.fld.kind},
            )
        data = {
            name: ("point", np.full(n, np.nan), {k: str(v) for k, v in attrs.items()})
            for name, attrs in outputs.items()
        }
        data["seed"] = ("point", spec.seeds, {"long_name": "seed of the point", "units": "1"})
        data["done"] = ("point", np.zeros(n, dtype=bool), {"long_name": "outputs stored"})
        ds = xr.Dataset(data, coords=coords, attrs=provenance_attrs(spec, outputs, extra))
        encoding = {v: {"chunks": (c,)} for v in [*ds.data_vars, *ds.coords]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.partial")
        try:
            ds.to_zarr(str(tmp), mode="w", encoding=encoding, consolidated=False)
            os.rename(tmp, self.path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    # -- state ------------------------------------------------------------------------
    @property
    def group(self):
        import zarr

        if self._group is None:
            self._group = zarr.open_group(str(self.path), mode="r+")
        return self._group

    def done(self) -> np.ndarray:
        """(n_points,) bool: which points are stored."""
        return np.asarray(self.group["done"][:]).astype(bool)

    def pending_chunks(self) -> list[int]:
        done = self.done()
        return [c for c in range(self.spec.n_chunks) if not done[self.spec.chunk_slice(c)].all()]

    def write_chunk(self, c: int, rows: list[dict], outputs: dict) -> None:
        """Store chunk ``c``'s outputs, then mark its points done."""
        sl = self.spec.chunk_slice(c)
        if len(rows) != sl.stop - sl.start:
            raise ValueError(f"chunk {c}: {len(rows)} results for {sl.stop - sl.start} points")
        g = self.group
        for name in outputs:
            try:
                col = np.array([_as_float(r[name], name) for r in rows], dtype=float)
            except KeyError:
                raise ValueError(
                    f"chunk {c}: the evaluator returned no output {name!r}; it returned "
                    f"{', '.join(rows[0])}"
                ) from None
            g[name][sl] = col
        done = g["done"]
        done[sl] = np.ones(sl.stop - sl.start, dtype=done.dtype)

    def touch(self, **attrs) -> None:
        """Update the ``updated`` timestamp (and any other attributes)."""
        self.group.attrs.update({"updated": _now(), **attrs})

    def open_dataset(self):
        """The store as an xarray Dataset (lazy)."""
        import xarray as xr

        return xr.open_zarr(str(self.path), consolidated=False)

    def to_netcdf(self, path: str | Path) -> Path:
        """Export the store to one NetCDF file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.open_dataset() as ds:
            ds.load().to_netcdf(path)
        return path


def _as_float(x, name: str) -> float:
    if x is None:
        return float("nan")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise ValueError(f"output {name!r} = {x!r} is not a number") from None
