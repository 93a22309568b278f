"""Event-based peripheral axons with explicit collision, for the spinal network.

An axon from the cord (segment 0) to the periphery (segment ``n_seg - 1``) is a chain
of segments. A segment that fires passes the spike to both neighbours after one segment
conduction time; a segment is refractory for ``refractory`` after it fires. This is the
classical collision rule of Hodgkin (1937) and of the collision technique used to
measure conduction (Kimura, *Electrodiagnosis in Diseases of Nerve and Muscle*): two
spikes travelling towards each other in the same axon meet, each finds the other's wake
refractory, and both vanish; a spike arriving within the refractory period after
another one is blocked. The segment conduction time is a discretisation of the axon,
not physiology; the refractory period must exceed twice the segment time so that a
spike cannot re-enter the segment it came from.

Geometry is declared along the nerve in physical distances (um internally) from the
spinal cord: the ectopic (root) site, the nerve-block site and the stimulation site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurosim.validate import check_positive, check_range

__all__ = ["AxonGeometry", "axon_geometry"]


@dataclass(frozen=True)
class AxonGeometry:
    """Segmentation of one class of axons (all axons of the class share it).

    Attributes
    ----------
    n_seg : int
        Number of segments; segment 0 is at the cord, ``n_seg - 1`` at the periphery.
    seg_delay : float
        Conduction time per segment (ms).
    refractory : float
        Refractory period of a segment (ms).
    stim_seg, ectopic_seg, block_seg : int
        Segment of the nerve-stimulation site, the ectopic (root) site and the
        nerve-block site.
    cord_to_periphery : float
        Total conduction time from cord to periphery (ms) = ``(n_seg - 1) * seg_delay``.
    """

    n_seg: int
    seg_delay: float
    refractory: float
    stim_seg: int
    ectopic_seg: int
    block_seg: int

    @property
    def cord_to_periphery(self) -> float:
        return (self.n_seg - 1) * self.seg_delay


def axon_geometry(
    *,
    velocity: float,
    cord_to_stim: float,
    stim_to_periphery: float,
    ectopic_site: float,
    block_site: float,
    segment_time: float,
    refractory: float,
    where: str,
) -> AxonGeometry:
    """Segment an axon so that the segment conduction time is close to ``segment_time``.

    Parameters
    ----------
    velocity : float
        Conduction velocity (m/s).
    cord_to_stim, stim_to_periphery : float
        Path lengths (um) from the cord to the stimulation site and from there to the
        peripheral end (neuromuscular junction or sensory ending).
    ectopic_site, block_site : float
        Distances from the cord (um) of the ectopic site (compressed root) and of the
        nerve block; both must lie between the cord and the stimulation site.
    segment_time : float
        Wanted conduction time per segment (ms); the actual one makes the stimulation
        site fall on a segment boundary.
    refractory : float
        Refractory period (ms); must exceed twice the segment time.
    where : str
        Key prefix for error messages.
    """
    check_positive(f"{where}.velocity", velocity, "m/s")
    check_positive(f"{where}.cord_to_stimulation", cord_to_stim, "um")
    check_positive(f"{where}.stimulation_to_periphery", stim_to_periphery, "um")
    check_positive(f"{where}.segment_time", segment_time, "ms")
    check_range(f"{where}.ectopic_site", ectopic_site, 0.0, cord_to_stim, unit="um")
    check_range(f"{where}.block_site", block_site, 0.0, cord_to_stim, unit="um", lo_open=True)
    um_per_ms = velocity * 1e3  # 1 m/s = 1 mm/ms = 1e3 um/ms
    t_stim = cord_to_stim / um_per_ms
    n_to_stim = max(1, round(t_stim / segment_time))
    seg_delay = t_stim / n_to_stim
    n_distal = max(1, round(stim_to_periphery / um_per_ms / seg_delay))
    n_seg = n_to_stim + n_distal + 1
    if not refractory > 2.0 * seg_delay:
        raise ValueError(
            f"`{where}.refractory` = {refractory:g} ms is out of range; allowed "
            f"(> 2 x segment time = {2 * seg_delay:g} ms) so that spikes cannot re-enter "
            "the segment they came from"
        )
    ectopic_seg = min(n_to_stim - 1, round(ectopic_site / um_per_ms / seg_delay))
    block_seg = min(n_to_stim - 1, max(1, math.floor(block_site / um_per_ms / seg_delay)))
    return AxonGeometry(
        n_seg=int(n_seg),
        seg_delay=float(seg_delay),
        refractory=float(refractory),
        stim_seg=int(n_to_stim),
        ectopic_seg=int(ectopic_seg),
        block_seg=int(block_seg),
    )
