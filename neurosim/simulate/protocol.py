"""What is done to a cable and what is measured: stimuli, recording, spike detection.

One time grid per run: ``dt`` and ``tstop`` live here and nowhere else; stimulus
timing, recording (every ``record_every`` steps) and spike times derive from it.
Current-clamp pulses follow NEURON's ``IClamp``: a pulse is on during a step when the
step's midpoint lies in ``[delay, delay + dur)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from neurosim.validate import check_choice, check_int, check_positive, check_range

__all__ = ["Stimulus", "Protocol", "MAX_DT", "METHODS"]

#: the largest time step accepted (ms): the fastest gating time constants of the
#: declared axon models are ~0.05-0.2 ms; beyond 1 ms no action potential is resolved
MAX_DT = 1.0

#: voltage integration methods and their kernel ``theta``
METHODS = {"backward_euler": 1.0, "crank_nicolson": 2.0}


@dataclass(frozen=True)
class Stimulus:
    """A current-clamp pulse, or a train of ``number`` pulses ``interval`` apart.

    Parameters
    ----------
    site : str
        ``"section(x)"``.
    delay, dur : float
        Onset of the first pulse and pulse duration (ms).
    amp : float or array of shape (B,)
        Amplitude (nA, positive = depolarising), per batch member if an array.
    number : int
        Pulses in the train.
    interval : float
        Onset-to-onset interval (ms) of a train; must exceed ``dur``.
    """

    site: str
    delay: float
    dur: float
    amp: float | np.ndarray
    number: int = 1
    interval: float = 0.0

    def check(self, where: str = "stimulus") -> None:
        check_range(f"{where}.delay", self.delay, 0.0, unit="ms")
        check_positive(f"{where}.dur", self.dur, "ms")
        check_range(f"{where}.amp", self.amp, -1e6, 1e6, unit="nA")
        check_int(f"{where}.number", self.number, 1, 10_000_000)
        if self.number > 1:
            check_range(f"{where}.interval", self.interval, self.dur, unit="ms", lo_open=True)

    def onsets(self) -> np.ndarray:
        return self.delay + self.interval * np.arange(self.number)


@dataclass(frozen=True)
class Protocol:
    """Stimuli, recording and analysis settings of one run.

    Parameters
    ----------
    tstop : float
        Duration (ms).
    dt : float
        Time step (ms).
    stimuli : tuple of Stimulus
    record : tuple of str
        Sites whose membrane potential is recorded.
    record_every : int
        Record every this many steps (decimation).
    detect : tuple of str or None
        Sites watched for spikes; default: the recording sites.
    threshold : float
        Spike detection threshold (mV, upward crossing).
    cv : (str, str) or None
        Two sites between which the conduction velocity is measured.
    method : {"backward_euler", "crank_nicolson"}
    max_spikes : int or None
        Spike slots per site; default one per ms of ``tstop`` (+2).
    """

    tstop: float
    dt: float = 0.025
    stimuli: tuple[Stimulus, ...] = ()
    record: tuple[str, ...] = ()
    record_every: int = 1
    detect: tuple[str, ...] | None = None
    threshold: float = 0.0
    cv: tuple[str, str] | None = None
    method: str = "backward_euler"
    max_spikes: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return int(round(self.tstop / self.dt))

    @property
    def detect_sites(self) -> tuple[str, ...]:
        return tuple(self.record) if self.detect is None else tuple(self.detect)

    def check(self) -> None:
        """Refuse a protocol that cannot be run or resolved, before any work starts."""
        check_positive("protocol.tstop", self.tstop, "ms")
        check_range("protocol.dt", self.dt, 0.0, MAX_DT, unit="ms", lo_open=True)
        if self.dt > self.tstop:
            raise ValueError(
                f"`protocol.dt` = {self.dt:g} ms is larger than `protocol.tstop` = {self.tstop:g} ms"
            )
        steps = self.tstop / self.dt
        if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
            raise ValueError(
                f"`protocol.tstop` = {self.tstop:g} ms is not a whole number of steps of "
                f"`protocol.dt` = {self.dt:g} ms"
            )
        check_choice("protocol.method", self.method, METHODS)
        check_int("protocol.record_every", self.record_every, 1, max(1, self.n_steps))
        check_range("protocol.threshold", self.threshold, -100.0, 100.0, unit="mV")
        if self.max_spikes is not None:
            check_int("protocol.max_spikes", self.max_spikes, 1, 10_000_000)
        for i, s in enumerate(self.stimuli):
            where = f"protocol.stimulus[{i}]"
            s.check(where)
            if s.dur < self.dt:
                raise ValueError(
                    f"`{where}.dur` = {s.dur:g} ms is shorter than `protocol.dt` = "
                    f"{self.dt:g} ms: the time step is too large to resolve the pulse; "
                    f"use dt <= {s.dur:g} ms"
                )
            if s.number > 1 and s.interval - s.dur < self.dt:
                raise ValueError(
                    f"`{where}.interval` = {s.interval:g} ms leaves gaps shorter than `protocol.dt`"
                    f" = {self.dt:g} ms between pulses; use dt <= {s.interval - s.dur:g} ms"
                )
        if not self.record and self.cv is None and self.detect is None:
            raise ValueError("the protocol records nothing: give `record` sites or `detect` sites")

    def spike_slots(self) -> int:
        return self.max_spikes or int(math.ceil(self.tstop / 1.0)) + 2
