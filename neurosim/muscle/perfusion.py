"""Calf-muscle perfusion during a posture schedule: the vascular side of claudication.

Vascular (intermittent) claudication is muscle ischaemia: an arterial stenosis caps the
blood flow the calf can receive, walking asks for more, the muscle runs out of O2,
metabolites accumulate and the muscle fatigues; standing still lets flow catch up and it
recovers within minutes (SCIENCE.md section 6). The root is not involved. The model is
a lumped O2 and metabolite balance of the muscle, in units of its resting O2 use:

- demand ``D`` = 1 at rest, ``walking_demand`` while the schedule's phase walks (a gait
  oscillation);
- flow follows demand (metabolic vasodilation) up to ``max_flow``, the hyperaemic
  capacity that an arterial stenosis limits: ``Q = min(D, max_flow)`` (O2 delivered in
  the same units), and stays at ``max_flow`` after exercise until the O2 store is full
  and the metabolites are gone (post-exercise hyperaemia);
- the muscle O2 store ``s`` (1 = full; myoglobin and tissue O2) fills and empties with
  the balance: ``ds/dt = (Q - D) / store_time`` (clipped to [0, 1]);
- once the store is empty the shortfall is met anaerobically and metabolites ``m``
  accumulate: ``dm/dt = (D - Q) [s = 0] / metabolite_capacity - m (Q_spare) / washout``
  where ``Q_spare = max(max_flow - D, 0) / max_flow`` (spare flow washes them out).

The metabolite level saturates at 1, the muscle's fatigue level (``models/muscle/*.toml``
``[fatigue] level``: twitch force down, contraction time up, spindle drive up,
tendon-organ inhibition down), which is ``m``, so a scenario runs its spinal segments with the fatigue the walk has
produced. Healthy legs have ``max_flow`` = 10 (calf flow rises about 10-fold in
exercise; assumption within the 5-20 fold range usually quoted); a peripheral arterial
stenosis with an ankle-brachial index of about 0.6 caps it at 3 (assumption). The store
holds ``store_time`` = 30 s of resting use; the metabolites reach fatigue level 1 after
``metabolite_capacity`` = 600 s of resting use met anaerobically (3.3 min of walking
at a shortfall of 3), and wash out with a time constant of ``washout`` = 60 s at full
spare flow (recovery within minutes). All are assumptions, stated so that the
qualitative pattern (onset after minutes of walking, relief within minutes of standing
still; SCIENCE.md section 6) can be checked, not fitted numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.modelfile import Field, read_table

__all__ = ["PERFUSION_FIELDS", "MusclePerfusion", "read_perfusion"]

_POS = {"lo": 0.0, "lo_open": True}
PERFUSION_FIELDS = {
    "max_flow": Field("float", default=10.0, **_POS, doc="hyperaemic flow capacity / rest"),
    "walking_demand": Field("float", default=6.0, lo=1.0, doc="O2 use while walking / rest"),
    "store_time": Field("time", default=30e3, **_POS, doc="O2 store in resting-use time"),
    "metabolite_capacity": Field(
        "time", default=600e3, **_POS, doc="anaerobic shortfall to fatigue level 1"
    ),
    "washout": Field("time", default=60e3, **_POS, doc="metabolite washout time at full spare"),
    "step": Field("time", default=1000.0, **_POS, doc="integration step"),
}


@dataclass(frozen=True)
class MusclePerfusion:
    """Parameters of the lumped calf O2/metabolite balance (times in ms)."""

    max_flow: float = 10.0
    walking_demand: float = 6.0
    store_time: float = 30e3
    metabolite_capacity: float = 600e3
    washout: float = 60e3
    step: float = 1000.0

    def __post_init__(self) -> None:
        for name in PERFUSION_FIELDS:
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                raise ValueError(f"muscle perfusion `{name}` = {v} must be a positive number")
        if self.walking_demand < 1:
            raise ValueError(
                f"muscle perfusion `walking_demand` = {self.walking_demand} must be >= 1 "
                "(resting use)"
            )

    def run(self, schedule, duration: float) -> dict:
        """Integrate over ``duration`` ms of ``schedule`` (a PressureSchedule: a phase
        walks when it has a gait). Returns arrays ``time`` (ms), ``demand``, ``flow``,
        ``o2_store``, ``metabolites`` and ``fatigue``."""
        n = int(np.ceil(duration / self.step)) + 1
        t = np.linspace(0.0, duration, n)
        idx = schedule.phase_index(t)
        walking = np.array(
            [0 <= i < len(schedule.phases) and schedule.phases[i].gait is not None for i in idx]
        )
        demand = np.where(walking, self.walking_demand, 1.0)
        flow = np.minimum(demand, self.max_flow)
        s = np.ones(n)
        m = np.zeros(n)
        for k in range(1, n):
            h = t[k] - t[k - 1]
            d = demand[k - 1]
            if s[k - 1] < 1.0 or m[k - 1] > 0.0:
                flow[k - 1] = self.max_flow  # hyperaemia until the debt is repaid
            q = flow[k - 1]
            s[k] = min(1.0, max(0.0, s[k - 1] + h * (q - d) / self.store_time))
            short = (d - q) if s[k - 1] <= 0.0 else 0.0
            spare = max(self.max_flow - d, 0.0) / self.max_flow
            dm = short / self.metabolite_capacity - m[k - 1] * spare / self.washout
            m[k] = min(1.0, max(0.0, m[k - 1] + h * dm))  # level 1: exhausted
        return {
            "time": t,
            "demand": demand,
            "flow": flow,
            "o2_store": s,
            "metabolites": m,
            "fatigue": m.copy(),
        }


def read_perfusion(table: dict | None, where: str = "muscle_perfusion") -> MusclePerfusion:
    """A checked :class:`MusclePerfusion` from a table (times with units)."""
    return MusclePerfusion(**read_table(table or {}, PERFUSION_FIELDS, where))
