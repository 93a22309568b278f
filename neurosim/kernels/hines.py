"""Direct solvers for the tree-structured linear systems of cable equations.

Compartments are numbered so that ``parent[i] < i`` (the root is 0 with ``parent[0] =
-1``); the matrix is then solved in O(n) by Gaussian elimination from the leaves to the
root and back-substitution (Hines 1984, Int J Bio-Med Comput 15:69). An unbranched cable
is the special case ``parent[i] = i - 1`` (the Thomas algorithm).

Both solvers work in place on a block of W batch members that share the tree: arrays
are shaped (n, W) and every inner loop runs over the W members, so the elimination
vectorises across the batch (same topology, different values).

Single cable: unknown ``v_i``; diagonal ``d`` and the symmetric coupling ``g_i`` between
``i`` and ``parent[i]`` (off-diagonal entries ``-g_i``).

Double cable (axoplasm + periaxonal space): unknowns ``(vi_i, vx_i)``, 2x2 blocks.
Diagonal block ``[[a, b], [b, c]]`` (symmetric), coupling to the parent
``diag(-gi_i, -gx_i)`` (inner and outer axial conductances).
"""

from __future__ import annotations

from neurosim.kernels._jit import inline_kernel

__all__ = ["solve_tree", "solve_tree_2x2"]


@inline_kernel
def solve_tree(parent, d, g, r, width):
    """Solve the single-cable systems of ``width`` members; solutions overwrite ``r``.

    Parameters
    ----------
    parent : int64[n]
        Parent index, ``parent[i] < i``; ``parent[0]`` unused.
    d : float64[n, W]
        Diagonal (overwritten).
    g : float64[n, W]
        Axial conductance between ``i`` and ``parent[i]``; ``g[0]`` unused.
    r : float64[n, W]
        Right-hand side, replaced by the solution.
    width : int
        Members in this block (``<= W``).
    """
    n = d.shape[0]
    for i in range(n - 1, 0, -1):
        p = parent[i]
        for w in range(width):
            f = g[i, w] / d[i, w]
            d[p, w] -= f * g[i, w]
            r[p, w] += f * r[i, w]
    for w in range(width):
        r[0, w] /= d[0, w]
    for i in range(1, n):
        p = parent[i]
        for w in range(width):
            r[i, w] = (r[i, w] + g[i, w] * r[p, w]) / d[i, w]


@inline_kernel
def solve_tree_2x2(parent, a, b, c, gi, gx, r1, r2, width):
    """Solve the double-cable systems of ``width`` members; solutions overwrite ``r1``
    (axoplasm ``vi``) and ``r2`` (periaxonal ``vx``).

    Parameters
    ----------
    parent : int64[n]
    a, b, c : float64[n, W]
        Diagonal blocks ``[[a, b], [b, c]]`` (overwritten).
    gi, gx : float64[n, W]
        Inner (axoplasmic) and outer (periaxonal) axial conductance to the parent.
    r1, r2 : float64[n, W]
        Right-hand sides (inner, outer), replaced by the solution.
    width : int
    """
    n = a.shape[0]
    for i in range(n - 1, 0, -1):
        p = parent[i]
        for w in range(width):
            inv = 1.0 / (a[i, w] * c[i, w] - b[i, w] * b[i, w])
            al = gi[i, w]
            be = gx[i, w]
            # D_p -= A D_i^-1 A and R_p -= A D_i^-1 R_i with A = diag(-al, -be)
            a[p, w] -= al * al * c[i, w] * inv
            b[p, w] += al * be * b[i, w] * inv
            c[p, w] -= be * be * a[i, w] * inv
            r1[p, w] += al * (c[i, w] * r1[i, w] - b[i, w] * r2[i, w]) * inv
            r2[p, w] += be * (a[i, w] * r2[i, w] - b[i, w] * r1[i, w]) * inv
    for w in range(width):
        inv = 1.0 / (a[0, w] * c[0, w] - b[0, w] * b[0, w])
        y1 = (c[0, w] * r1[0, w] - b[0, w] * r2[0, w]) * inv
        y2 = (a[0, w] * r2[0, w] - b[0, w] * r1[0, w]) * inv
        r1[0, w] = y1
        r2[0, w] = y2
    for i in range(1, n):
        p = parent[i]
        for w in range(width):
            s1 = r1[i, w] + gi[i, w] * r1[p, w]
            s2 = r2[i, w] + gx[i, w] * r2[p, w]
            inv = 1.0 / (a[i, w] * c[i, w] - b[i, w] * b[i, w])
            r1[i, w] = (c[i, w] * s1 - b[i, w] * s2) * inv
            r2[i, w] = (a[i, w] * s2 - b[i, w] * s1) * inv
