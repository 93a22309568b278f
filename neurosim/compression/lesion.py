"""Where the root is compressed: lesion levels, the root's segments, and the lesion edges.

A :class:`Lesion` is one or more compressed *levels* (a single stenosis, a double-level
stenosis, a cuff) along the simulated axon. Positions are path distances along the axon
(um). The user states them from the spinal-cord end of the root (``cord_end`` says
which end of the simulated axon that is) or as the index of the node of Ranvier at the
centre of the level.

The blood supply and the ion layer see the root as a row of *segments*: the ion pools of
:mod:`neurosim.ions` (one per node of Ranvier for a myelinated axon). :class:`RootGrid`
holds their extents; :meth:`Lesion.coverage` says what fraction of each segment lies
under each level. The mechanical damage of :mod:`neurosim.compression.damage` acts at the
lesion *edges* (Ochoa, Fowler & Gilliatt 1972, J Anat 113:433: paranodal myelin is
displaced at the edges of the compressed zone, not at its centre); :meth:`Lesion.edges`
lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.validate import check_choice, check_int, check_positive, check_range

__all__ = ["Level", "Lesion", "RootGrid", "Edge", "CORD_ENDS"]

#: which end of the simulated axon (position 0 = the node[0] end, or the far end) is
#: the spinal cord: positions "from the cord" are measured from there
CORD_ENDS = ("start", "end")


@dataclass(frozen=True)
class Level:
    """One compressed level.

    Parameters
    ----------
    length : float
        Length of the compressed zone along the root (um).
    center : float, optional
        Centre of the zone, as distance from the cord end of the root (um).
    node : int, optional
        Instead of ``center``: the index of the node of Ranvier at the centre.
    scale : float
        This level's pressure relative to the schedule's (a double stenosis may be
        unequal); 1 by default.
    """

    length: float
    center: float | None = None
    node: int | None = None
    scale: float = 1.0

    def check(self, where: str) -> None:
        check_positive(f"{where}.length", self.length, "um")
        if (self.center is None) == (self.node is None):
            raise ValueError(
                f"`{where}` needs exactly one of `center` (distance from the cord end) or "
                f"`node` (index of the node at the centre); got center={self.center!r}, "
                f"node={self.node!r}"
            )
        if self.center is not None:
            check_range(f"{where}.center", self.center, 0.0, unit="um")
        if self.node is not None:
            check_int(f"{where}.node", self.node, 0)
        check_range(f"{where}.scale", self.scale, 0.0, unit="", lo_open=True)


@dataclass(frozen=True)
class Edge:
    """One lesion edge: the level it belongs to, its position (um along the axon) and the
    side on which the compressed zone lies (+1: towards larger positions, -1: smaller)."""

    level: int
    position: float
    inward: int


@dataclass(frozen=True)
class RootGrid:
    """The root as a row of N segments (ion pools), ordered along the axon.

    Parameters
    ----------
    lo, hi : ndarray, shape (N,)
        Extent of each segment (um along the axon); contiguous, increasing.
    extension : (float, float)
        Length of root (um) between the blood supply and each end of the simulated axon
        (the start end, the far end): vessels that feed the simulated segment from
        outside it. 0 means the supply enters at the axon's ends.
    """

    lo: np.ndarray
    hi: np.ndarray
    extension: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        lo = np.asarray(self.lo, dtype=float)
        hi = np.asarray(self.hi, dtype=float)
        if lo.ndim != 1 or lo.shape != hi.shape or lo.size < 1:
            raise ValueError("`RootGrid` needs 1-D `lo` and `hi` of equal, non-zero length")
        check_range("grid.lo", lo, 0.0, unit="um")
        if np.any(hi <= lo):
            i = int(np.argmax(hi <= lo))
            raise ValueError(f"grid segment {i} has hi = {hi[i]:g} <= lo = {lo[i]:g} um")
        if lo.size > 1 and np.any(np.abs(lo[1:] - hi[:-1]) > 1e-6 * max(1.0, float(hi[-1]))):
            raise ValueError("grid segments must be contiguous and ordered along the axon")
        for i, e in enumerate(self.extension):
            check_range(f"grid.extension[{i}]", e, 0.0, unit="um")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)
        object.__setattr__(self, "extension", tuple(float(e) for e in self.extension))

    @property
    def n(self) -> int:
        return self.lo.size

    @property
    def center(self) -> np.ndarray:
        return 0.5 * (self.lo + self.hi)

    @property
    def length(self) -> np.ndarray:
        """Segment lengths (um), shape (N,)."""
        return self.hi - self.lo

    @property
    def total(self) -> float:
        """Length of the simulated root (um)."""
        return float(self.hi[-1] - self.lo[0])

    @classmethod
    def uniform(cls, length: float, n: int, extension=(0.0, 0.0)) -> RootGrid:
        """``n`` equal segments over ``length`` um (for calibration without an axon)."""
        check_positive("grid.length", length, "um")
        n = check_int("grid.n", n, 1)
        edges = np.linspace(0.0, length, n + 1)
        return cls(edges[:-1], edges[1:], extension)

    @classmethod
    def from_pools(cls, morphology, pool: np.ndarray, extension=(0.0, 0.0)) -> RootGrid:
        """The segments of the ion pools of an unbranched cable.

        ``pool`` (n,) is the pool of each compartment (:func:`neurosim.simulate.ionic.
        ion_pools`). Each pool spans its compartments (centre +- half a segment length).
        """
        pool = np.asarray(pool, dtype=np.int64)
        geo = morphology.geometry
        if np.any(geo.parent[1:] != np.arange(geo.n - 1)):
            raise ValueError(
                "compression needs an unbranched cable (each compartment the child of the "
                "previous one)"
            )
        half = np.zeros(geo.n)
        for sec in morphology.sections:
            s0 = morphology.sec_start[sec.name]
            half[s0 : s0 + sec.nseg] = 0.5 * sec.seg_length()
        P = int(pool.max()) + 1
        lo = np.full(P, np.inf)
        hi = np.full(P, -np.inf)
        np.minimum.at(lo, pool, geo.position - half)
        np.maximum.at(hi, pool, geo.position + half)
        if np.any(~np.isfinite(lo)):
            raise ValueError("every ion pool needs at least one compartment")
        order = np.argsort(lo)
        if np.any(order != np.arange(P)):
            raise ValueError("ion pools must be numbered along the axon")
        # adjacent pools meet half-way through the compartment they share a boundary with
        return cls(np.maximum(lo, 0.0), hi, extension)


@dataclass(frozen=True)
class Lesion:
    """Compressed levels along the root.

    Parameters
    ----------
    levels : tuple of Level
        One (single stenosis, cuff) or more (double-level stenosis); they must not
        overlap.
    cord_end : {"start", "end"}
        Which end of the simulated axon is at the spinal cord: ``"start"`` (position 0,
        node[0]) or ``"end"``. Distances in :class:`Level` are from this end.
    """

    levels: tuple[Level, ...]
    cord_end: str = "start"

    def __post_init__(self) -> None:
        levels = tuple(self.levels)
        if not levels:
            raise ValueError("a lesion needs at least one level")
        for i, lv in enumerate(levels):
            if not isinstance(lv, Level):
                raise TypeError(f"`lesion.level[{i}]` must be a Level, got {type(lv).__name__}")
            lv.check(f"lesion.level[{i}]")
        check_choice("lesion.cord_end", self.cord_end, CORD_ENDS)
        object.__setattr__(self, "levels", levels)

    # -- positions --------------------------------------------------------------------
    def intervals(self, total: float, node_position=None) -> np.ndarray:
        """Extent ``[lo, hi]`` (um along the axon) of each level, shape (L, 2), sorted.

        Parameters
        ----------
        total : float
            Length of the simulated axon (um).
        node_position : callable, optional
            ``i -> position (um)`` of node ``i``; needed for levels given by node.
        """
        out = []
        for i, lv in enumerate(self.levels):
            if lv.node is not None:
                if node_position is None:
                    raise ValueError(
                        f"`lesion.level[{i}]` is given by node index; the root grid has no "
                        f"nodes of Ranvier (give `center` instead)"
                    )
                c = float(node_position(lv.node))
            else:
                if lv.center > total:
                    raise ValueError(
                        f"`lesion.level[{i}].center` = {lv.center:g} um lies beyond the "
                        f"simulated root (length {total:g} um); allowed [0, {total:g}] um"
                    )
                c = lv.center if self.cord_end == "start" else total - lv.center
            out.append((c - 0.5 * lv.length, c + 0.5 * lv.length))
        iv = np.array(out)
        order = np.argsort(iv[:, 0])
        if np.any(order != np.arange(len(out))):
            raise ValueError(
                "lesion levels must be listed in order from the cord end "
                f"(got centres {', '.join(f'{0.5 * (a + b):g}' for a, b in out)} um along the axon)"
            )
        sorted_iv = iv[order]
        overlap = sorted_iv[1:, 0] < sorted_iv[:-1, 1]
        if overlap.any():
            k = int(np.argmax(overlap))
            raise ValueError(
                f"lesion levels {k} and {k + 1} overlap ({sorted_iv[k, 0]:g}-{sorted_iv[k, 1]:g} "
                f"and {sorted_iv[k + 1, 0]:g}-{sorted_iv[k + 1, 1]:g} um); a level is one "
                f"continuous compressed zone"
            )
        if sorted_iv[-1, 0] >= total or sorted_iv[0, 1] <= 0:
            raise ValueError(
                f"lesion levels ({sorted_iv[0, 0]:g}-{sorted_iv[-1, 1]:g} um) lie outside the "
                f"simulated root (0-{total:g} um)"
            )
        return iv

    @property
    def scales(self) -> np.ndarray:
        """Pressure scale of each level, shape (L,)."""
        return np.array([lv.scale for lv in self.levels])

    def coverage(self, grid: RootGrid, node_position=None) -> np.ndarray:
        """Fraction of each segment under each level, shape (L, N), in [0, 1]."""
        iv = self.intervals(float(grid.hi[-1]), node_position)
        lo = np.maximum(iv[:, 0:1], grid.lo[None, :])
        hi = np.minimum(iv[:, 1:2], grid.hi[None, :])
        return np.clip(hi - lo, 0.0, None) / grid.length[None, :]

    def edges(self, total: float, node_position=None) -> list[Edge]:
        """The edges of every level that lie inside the simulated root, in level order
        (the edge at the smaller position first). A level reaching past an end of the
        root (a cuff longer than the simulated segment) has no edge there."""
        iv = self.intervals(total, node_position)
        out = []
        for k, (a, b) in enumerate(iv):
            if 0.0 < a < total:
                out.append(Edge(k, float(a), +1))
            if 0.0 < b < total:
                out.append(Edge(k, float(b), -1))
        return out

    def cord_distance(self, position, total: float) -> np.ndarray:
        """Distance from the cord end (um) of positions along the axon."""
        x = np.asarray(position, dtype=float)
        return x if self.cord_end == "start" else total - x
