"""The time loop of a batch of cables: one compiled call advances every member many steps.

Discretisation, as NEURON's fixed-step method (so traces compare at the same dt):

1. At ``t_mid = t + dt/2`` every ionic current is linearised about the present voltage
   with its gates frozen (exact for ohmic currents) and the stimuli are evaluated.
2. The voltage equation is solved implicitly: backward Euler (``theta = 1``) or
   Crank-Nicolson (``theta = 2``: a backward-Euler half step to the midpoint ``w``, then
   ``v' = v + 2 (w - v)``, NEURON's ``secondorder = 2``).
3. Gates advance by exponential Euler over ``dt`` with the rates at the new voltage.

Compartments carry absolute quantities: capacitance ``cap`` in nF, conductances in uS,
currents in nA, potentials in mV, time in ms. A single cable has one unknown per
compartment (membrane potential). A double cable (myelinated axon with a periaxonal
layer, NEURON's ``extracellular``) has two: axoplasm ``vi`` and periaxonal ``vx``; the
membrane (``cap``, ionic conductances) joins them, the myelin (``capx``, ``gxg``) joins
``vx`` to ground, and each layer has its own axial conductance. The membrane potential
is ``v = vi - vx``.

Members are integrated in blocks of ``width`` (one block per thread at a time); inside
a block the state is transposed to (compartment, member) so that every inner loop,
including the tree solve, runs over members with unit stride and vectorises. A block
computes exactly what ``width`` separate runs would.

Layout (B batch members, n compartments, S channel sites, G gates, P stimulus pulses,
R recording sites, D detection sites, M spike slots):

==============  =============  ======================================================
array           shape          meaning
==============  =============  ======================================================
parent          (n,)           parent compartment, ``parent[i] < i``
cap, gax        (B, n)         membrane capacitance (nF); axial conductance to parent (uS)
capx, gxg, gxa  (B, n) or      periaxonal: capacitance and conductance to ground,
                (B, 0)         axial conductance to parent; width 0 for a single cable
cur_ptr         (C + 1,)       sites of current c are ``cur_ptr[c]:cur_ptr[c+1]``
site_comp       (S,)           compartment of each site
gbar, erev      (B, S)         maximal conductance (uS) and reversal (mV) per site
cur_gate_ptr    (C + 1,)       gates of current c: ``cur_gate[cur_gate_ptr[c]:...]``
cur_gate        (K,)           gate index
cur_gate_pow    (K,)           its exponent
gate_cur        (G,)           the current whose sites a gate lives on
gate_base       (G,)           offset of the gate's states in ``gstate``
gate_mode       (G,)           0 alpha/beta, 1 inf/tau, 2 instantaneous alpha/beta,
                               3 instantaneous inf
gate_form       (G, 2)         rate-form codes (:mod:`neurosim.kernels.rates`)
gate_par        (G, 2, 4)      rate-form parameters
phi             (B, G)         temperature factor multiplying the rates (Q10)
gstate          (B, sum sites) gate states
v, vx           (B, n)         membrane and periaxonal potential (mV); vx is (B, 0)
                               for a single cable
i_extra         (B, n)         steady outward current per compartment (nA), e.g. pump
stim_comp       (P,)           compartment of each pulse (sorted by onset)
stim_on/off     (P,)           pulse onset and end (ms)
stim_amp        (B, P)         amplitude (nA, into the cell)
rec_comp        (R,)           recorded compartments
rec_out         (B, R, T)      recorded v, written every ``rec_every`` steps
det_comp        (D,)           compartments watched for spikes
spk_t, spk_peak (B, D, M)      spike times (ms, threshold crossing interpolated
                               linearly) and peak potential (mV)
spk_n           (B, D)         spike counts (may exceed M: the caller checks overflow)
q_acc           (B, S)         charge through each site (pC = nA ms, outward +),
                               accumulated when ``accumulate``
g_acc           (B, S)         conductance-time integral of each site (uS ms), when
                               ``accumulate`` (splits a mixed-ion current by ion)
==============  =============  ======================================================
"""

from __future__ import annotations

import numpy as np
from numba import prange

from neurosim.kernels._jit import inline_kernel, kernel, variant
from neurosim.kernels.hines import solve_tree, solve_tree_2x2
from neurosim.kernels.rates import rate, rate_row, vexp

__all__ = ["integrate", "integrate_serial", "steady_gates", "DEFAULT_WIDTH"]

#: members per block: wide enough to fill the vector units and amortise per-row loop
#: overhead, small enough that a block's state stays in the core's L2 cache
DEFAULT_WIDTH = 16
#: members one pass of the vectorised inner loops handles (LLVM's vector width times
#: its interleave). The remainder of a block runs in scalar code at several times the
#: cost per member, so a block is padded up to a multiple of LANES. Measured on a
#: 2-core AMD EPYC, one thread, 21-node human sensory axons (min of 7 runs of 50 ms at
#: dt 25 us, relative to a block of 16 in the same run): unpadded, a block of 4 costs
#: 0.85, of 10 0.99, of 12 1.22; padded 0.75-0.77, 1.0, 0.98-1.0. On the compression
#: sweep's 60-78 mmHg chunk (10 members a group, firing; its first 3 min) 61.6 and
#: 58.5 s unpadded against 48.1 and 47.2 s padded, alternated. A block of 1 is not
#: padded (8 columns cost more than one scalar member).
LANES = 8


@inline_kernel
def _membrane(
    cur_ptr,
    site_comp,
    cur_gate_ptr,
    cur_gate,
    cur_gate_pow,
    gate_base,
    GB,
    ER,
    GS,
    gion,
    jion,
    gsite,
    W,
):
    """Conductance ``gion`` (uS) and ``jion = sum g E`` (nA) per compartment and member."""
    gion[:, :W] = 0.0
    jion[:, :W] = 0.0
    for c in range(cur_ptr.shape[0] - 1):
        s0 = cur_ptr[c]
        for s in range(s0, cur_ptr[c + 1]):
            for w in range(W):
                gsite[s, w] = GB[s, w]
            for k in range(cur_gate_ptr[c], cur_gate_ptr[c + 1]):
                row = gate_base[cur_gate[k]] + s - s0
                for _ in range(cur_gate_pow[k]):
                    for w in range(W):
                        gsite[s, w] *= GS[row, w]
            comp = site_comp[s]
            for w in range(W):
                gion[comp, w] += gsite[s, w]
                jion[comp, w] += gsite[s, w] * ER[s, w]


@inline_kernel
def _gates(
    dt,
    V,
    cur_ptr,
    site_comp,
    gate_cur,
    gate_base,
    gate_mode,
    gate_form,
    gate_par,
    PHI,
    GS,
    e1,
    e2,
    W,
):
    """Advance every gate by exponential Euler with rates at the present ``V``."""
    for g in range(gate_cur.shape[0]):
        c = gate_cur[g]
        s0 = cur_ptr[c]
        base = gate_base[g]
        mode = gate_mode[g]
        f1 = gate_form[g, 0]
        f2 = gate_form[g, 1]
        a0, a1, a2, a3 = gate_par[g, 0, 0], gate_par[g, 0, 1], gate_par[g, 0, 2], gate_par[g, 0, 3]
        b0, b1, b2, b3 = gate_par[g, 1, 0], gate_par[g, 1, 1], gate_par[g, 1, 2], gate_par[g, 1, 3]
        ph = PHI[g]
        for j in range(cur_ptr[c + 1] - s0):
            vrow = V[site_comp[s0 + j]]
            x = GS[base + j]
            rate_row(f1, a0, a1, a2, a3, vrow, e1, W)
            if mode != 3:
                rate_row(f2, b0, b1, b2, b3, vrow, e2, W)
            if mode == 0:
                for w in range(W):
                    tot = e1[w] + e2[w]
                    inf = e1[w] / tot
                    x[w] = inf + (x[w] - inf) * vexp(-dt * ph[w] * tot)
            elif mode == 1:
                for w in range(W):
                    x[w] = e1[w] + (x[w] - e1[w]) * vexp(-dt * ph[w] / e2[w])
            elif mode == 2:
                for w in range(W):
                    x[w] = e1[w] / (e1[w] + e2[w])
            else:
                for w in range(W):
                    x[w] = e1[w]


@kernel
def steady_gates(
    v, cur_ptr, site_comp, gate_cur, gate_base, gate_mode, gate_form, gate_par, gstate
):
    """Set every gate to its steady state at ``v`` (B, n): the INITIAL block of hh.mod."""
    for b in range(v.shape[0]):
        for g in range(gate_cur.shape[0]):
            c = gate_cur[g]
            s0 = cur_ptr[c]
            p = gate_par[g]
            for j in range(cur_ptr[c + 1] - s0):
                vv = v[b, site_comp[s0 + j]]
                e1 = rate(gate_form[g, 0], p[0, 0], p[0, 1], p[0, 2], p[0, 3], vv)
                if gate_mode[g] == 0 or gate_mode[g] == 2:
                    e2 = rate(gate_form[g, 1], p[1, 0], p[1, 1], p[1, 2], p[1, 3], vv)
                    gstate[b, gate_base[g] + j] = e1 / (e1 + e2)
                else:
                    gstate[b, gate_base[g] + j] = e1


@inline_kernel
def _load(src, b0, W, dst):
    """dst[i, w] = src[b0 + w, i]: a block of members, transposed."""
    for i in range(src.shape[1]):
        for w in range(W):
            dst[i, w] = src[b0 + w, i]


@inline_kernel
def _pad(dst, W, Wp):
    """Columns ``W:Wp`` of a block become copies of column ``W - 1``: finite work for
    the padding members, whose results are never stored."""
    for i in range(dst.shape[0]):
        for w in range(W, Wp):
            dst[i, w] = dst[i, W - 1]


@inline_kernel
def _padded(W):
    """Columns to compute for a block of ``W`` members: a multiple of :data:`LANES`
    when the remainder is 2 or more (see there), else ``W``."""
    r = W % LANES
    return W + LANES - r if r >= 2 else W


@inline_kernel
def _store(dst, b0, W, src):
    for i in range(dst.shape[1]):
        for w in range(W):
            dst[b0 + w, i] = src[i, w]


def _integrate(
    t0,
    dt,
    step0,
    n_steps,
    theta,
    width,
    parent,
    cap,
    gax,
    capx,
    gxg,
    gxa,
    cur_ptr,
    site_comp,
    gbar,
    erev,
    cur_gate_ptr,
    cur_gate,
    cur_gate_pow,
    gate_cur,
    gate_base,
    gate_mode,
    gate_form,
    gate_par,
    phi,
    gstate,
    v,
    vx,
    i_extra,
    stim_comp,
    stim_on,
    stim_off,
    stim_amp,
    rec_comp,
    rec_every,
    rec_out,
    det_comp,
    threshold,
    spk_t,
    spk_peak,
    spk_n,
    accumulate,
    q_acc,
    g_acc,
):
    """Advance every batch member ``n_steps`` steps of ``dt`` from global step ``step0``.

    Times are ``t0 + k dt`` for global step ``k``: one time grid per run, so a run split
    into several calls (to change slow parameters between them) is the same as one call.
    Sample ``k // rec_every`` of ``rec_out`` holds the state after global step ``k`` when
    ``k % rec_every == 0`` (the caller writes sample 0, the initial state). ``width`` is
    the number of members per block. See the module docstring for every array.
    """
    nb = v.shape[0]
    n = v.shape[1]
    double = capx.shape[1] > 0
    nx = n if double else 0
    n_sites = site_comp.shape[0]
    n_gs = gstate.shape[1]
    n_det = det_comp.shape[0]
    n_pulse = stim_comp.shape[0]
    n_rec = rec_comp.shape[0]
    max_spk = spk_t.shape[2]
    inv_dt = theta / dt
    n_blocks = (nb + width - 1) // width
    for blk in prange(n_blocks):
        b0 = blk * width
        W = min(width, nb - b0)
        Wp = _padded(W)  # columns computed: W members, then copies of the last one
        # block-local, transposed (row = compartment / site / gate, column = member)
        V = np.empty((n, Wp))
        CAP = np.empty((n, Wp))
        GAX = np.empty((n, Wp))
        IEX = np.empty((n, Wp))
        VX = np.empty((nx, Wp))
        CAPX = np.empty((nx, Wp))
        GXG = np.empty((nx, Wp))
        GXA = np.empty((nx, Wp))
        GB = np.empty((n_sites, Wp))
        ER = np.empty((n_sites, Wp))
        QA = np.empty((n_sites, Wp))
        GA = np.empty((n_sites, Wp))
        PHI = np.empty((phi.shape[1], Wp))
        GS = np.empty((n_gs, Wp))
        AMP = np.empty((n_pulse, Wp))
        _load(v, b0, W, V)
        _load(cap, b0, W, CAP)
        _load(gax, b0, W, GAX)
        _load(i_extra, b0, W, IEX)
        _load(gbar, b0, W, GB)
        _load(erev, b0, W, ER)
        _load(q_acc, b0, W, QA)
        _load(g_acc, b0, W, GA)
        _load(phi, b0, W, PHI)
        _load(gstate, b0, W, GS)
        _load(stim_amp, b0, W, AMP)
        if double:
            _load(vx, b0, W, VX)
            _load(capx, b0, W, CAPX)
            _load(gxg, b0, W, GXG)
            _load(gxa, b0, W, GXA)
        for X in (V, CAP, GAX, IEX, GB, ER, QA, GA, PHI, GS, AMP, VX, CAPX, GXG, GXA):
            _pad(X, W, Wp)
        gion = np.empty((n, Wp))
        jion = np.empty((n, Wp))
        gsite = np.empty((n_sites, Wp))
        d = np.empty((n, Wp))
        r = np.empty((n, Wp))
        bb = np.empty((nx, Wp))
        cc = np.empty((nx, Wp))
        r2 = np.empty((nx, Wp))
        e1 = np.empty(Wp)
        e2 = np.empty(Wp)
        vprev = np.empty((n_det, W))
        for k in range(n_det):
            for w in range(W):
                vprev[k, w] = V[det_comp[k], w]
        first = 0
        for step in range(n_steps):
            gstep = step0 + step
            t_mid = t0 + (gstep + 0.5) * dt
            _membrane(
                cur_ptr,
                site_comp,
                cur_gate_ptr,
                cur_gate,
                cur_gate_pow,
                gate_base,
                GB,
                ER,
                GS,
                gion,
                jion,
                gsite,
                Wp,
            )
            # membrane branch: conductance gm = C/dt + g, source jm = C v/dt + sum gE - i_extra
            for i in range(n):
                for w in range(Wp):
                    cdt = CAP[i, w] * inv_dt
                    gm = cdt + gion[i, w]
                    jm = cdt * V[i, w] + jion[i, w] - IEX[i, w]
                    d[i, w] = gm + GAX[i, w]
                    r[i, w] = jm
                if double:
                    for w in range(Wp):
                        cdt = CAP[i, w] * inv_dt
                        gm = cdt + gion[i, w]
                        jm = cdt * V[i, w] + jion[i, w] - IEX[i, w]
                        bb[i, w] = -gm
                        cc[i, w] = gm + CAPX[i, w] * inv_dt + GXG[i, w] + GXA[i, w]
                        r2[i, w] = CAPX[i, w] * inv_dt * VX[i, w] - jm
            for i in range(1, n):
                p = parent[i]
                for w in range(Wp):
                    d[p, w] += GAX[i, w]
                if double:
                    for w in range(Wp):
                        cc[p, w] += GXA[i, w]
            # pulses are sorted by onset: skip the finished head, stop at the first future one
            while first < n_pulse and stim_off[first] <= t_mid and stim_on[first] <= t_mid:
                first += 1
            for q in range(first, n_pulse):
                if stim_on[q] > t_mid:
                    break
                if t_mid < stim_off[q]:
                    sc = stim_comp[q]
                    for w in range(Wp):
                        r[sc, w] += AMP[q, w]
            if double:
                solve_tree_2x2(parent, d, bb, cc, GAX, GXA, r, r2, Wp)
                for i in range(n):
                    for w in range(Wp):
                        wm = r[i, w] - r2[i, w]  # membrane potential at the solved point
                        r[i, w] = wm
                        V[i, w] += theta * (wm - V[i, w])
                        VX[i, w] += theta * (r2[i, w] - VX[i, w])
            else:
                solve_tree(parent, d, GAX, r, Wp)
                for i in range(n):
                    for w in range(Wp):
                        V[i, w] += theta * (r[i, w] - V[i, w])
            if accumulate:
                # charge of the implicit step: g (w - E) dt with w the solved (mid)point
                for s in range(n_sites):
                    sc = site_comp[s]
                    for w in range(Wp):
                        QA[s, w] += gsite[s, w] * (r[sc, w] - ER[s, w]) * dt
                        GA[s, w] += gsite[s, w] * dt
            _gates(
                dt,
                V,
                cur_ptr,
                site_comp,
                gate_cur,
                gate_base,
                gate_mode,
                gate_form,
                gate_par,
                PHI,
                GS,
                e1,
                e2,
                Wp,
            )
            t_new = t0 + (gstep + 1) * dt
            for k in range(n_det):
                dc = det_comp[k]
                for w in range(W):
                    vn = V[dc, w]
                    vp = vprev[k, w]
                    if vp < threshold <= vn:
                        m = spk_n[b0 + w, k]
                        if m < max_spk:
                            spk_t[b0 + w, k, m] = t_new - dt + dt * (threshold - vp) / (vn - vp)
                            spk_peak[b0 + w, k, m] = vn
                        spk_n[b0 + w, k] = m + 1
                    elif vn >= threshold and vp >= threshold:
                        m = spk_n[b0 + w, k] - 1
                        if 0 <= m < max_spk and vn > spk_peak[b0 + w, k, m]:
                            spk_peak[b0 + w, k, m] = vn
                    vprev[k, w] = vn
            if (gstep + 1) % rec_every == 0:
                sample = (gstep + 1) // rec_every
                for k in range(n_rec):
                    for w in range(W):
                        rec_out[b0 + w, k, sample] = V[rec_comp[k], w]
        _store(v, b0, W, V)
        _store(gstate, b0, W, GS)
        if double:
            _store(vx, b0, W, VX)
        if accumulate:
            _store(q_acc, b0, W, QA)
            _store(g_acc, b0, W, GA)


#: the time loop, blocks of members spread over threads
integrate = kernel(parallel=True)(variant(_integrate, "parallel"))
#: the same loop in the calling thread: for batches of one block, where starting the
#: thread pool would cost more than the work (the ion layer's short windows). It
#: releases the GIL, so that independent simulations can run in threads side by side.
integrate_serial = kernel(nogil=True)(variant(_integrate, "serial"))
