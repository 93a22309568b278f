"""The teaching-figure gallery: ``neurosim figure NAME | all | --list``.

Each figure is a function registered with :func:`figure` in a module of
``neurosim.figures``; :data:`FIGURES` names that module so that it is imported only when
the figure is asked for (or listed). To add one::

    # neurosim/figures/my_figure.py
    from neurosim.figures.gallery import figure

    @figure("my_figure", "one line: what the picture shows")
    def my_figure(out_dir: Path, data_dir: Path) -> Path:
        data = compute(data_dir / "my_figure.npz")     # run via the entry points, save
        return plot(data, out_dir / "my_figure.png")   # plot from the saved file

and add ``"my_figure": "neurosim.figures.my_figure"`` to :data:`FIGURES`. The function
writes its data under ``data_dir`` (``results/figures`` by default) and its PNG(s) under
``out_dir`` (the repository's ``figures/``), and returns the path(s) written. Plot with
:func:`neurosim.figures.style`, :data:`~neurosim.figures.PALETTE` and
:func:`~neurosim.figures.save`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FIGURES", "figure", "get_figure", "list_figures", "make_figure", "Figure"]

#: figure name -> module that registers it (imported lazily)
FIGURES: dict[str, str] = {
    "travelling_ap": "neurosim.figures.travelling_ap",
    "blood_flow": "neurosim.figures.blood_flow",
    "potassium_bursting": "neurosim.figures.potassium_bursting",
    "chain": "neurosim.figures.chain",
    "claudication": "neurosim.figures.claudication",
    "compression_sweep": "neurosim.figures.compression_sweep",
}

FigureFn = Callable[[Path, Path], "Path | list[Path]"]


@dataclass(frozen=True)
class Figure:
    """A registered figure: its name, one-line description and the function drawing it."""

    name: str
    description: str
    fn: FigureFn


_REGISTRY: dict[str, Figure] = {}


def figure(name: str, description: str) -> Callable[[FigureFn], FigureFn]:
    """Decorator: register ``fn(out_dir, data_dir) -> Path | list[Path]`` as ``name``."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]+", name) or name == "all":
        raise ValueError(f"figure name {name!r}: use lower-case letters, digits and '_'")
    if not isinstance(description, str) or not description.strip() or "\n" in description:
        raise ValueError(f"figure {name!r}: the description must be one non-empty line")

    def deco(fn: FigureFn) -> FigureFn:
        old = _REGISTRY.get(name)
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ValueError(
                f"figure {name!r} is already registered by {old.fn.__module__}.{old.fn.__qualname__}"
            )
        _REGISTRY[name] = Figure(name, description.strip(), fn)
        return fn

    return deco


def get_figure(name: str) -> Figure:
    """The registered figure ``name`` (importing its module on first use)."""
    if name not in _REGISTRY and name in FIGURES:
        importlib.import_module(FIGURES[name])
    if name not in _REGISTRY:
        raise ValueError(
            f"no figure {name!r}; figures: {', '.join(sorted(set(FIGURES) | set(_REGISTRY)))}"
            f" (or `all`)"
        )
    return _REGISTRY[name]


def list_figures() -> dict[str, str]:
    """Every figure's name and description, sorted by name."""
    for name in FIGURES:
        get_figure(name)
    return {n: _REGISTRY[n].description for n in sorted(_REGISTRY)}


def make_figure(
    name: str, out_dir: str | Path = "figures", data_dir: str | Path | None = None
) -> list[Path]:
    """Regenerate one figure; returns the files written.

    Parameters
    ----------
    name : str
        A registered figure (:func:`list_figures`).
    out_dir : str or Path
        Where the PNG(s) go (default: ``figures``).
    data_dir : str or Path, optional
        Where the figure's data go (default: ``results/figures``).
    """
    fig = get_figure(name)
    out_dir = Path(out_dir)
    data_dir = Path(data_dir) if data_dir is not None else Path("results") / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    written = fig.fn(out_dir, data_dir)
    paths = [Path(p) for p in (written if isinstance(written, list | tuple) else [written])]
    missing = [str(p) for p in paths if not p.is_file()]
    if not paths or missing:
        raise RuntimeError(f"figure {name!r} did not write {', '.join(missing) or 'any file'}")
    return paths
