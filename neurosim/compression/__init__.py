"""Compression of a nerve root: where, how hard and when, and what it does.

The chain this package declares (DESIGN.md): posture / walking / stenosis grade ->
pressure on the root (:mod:`~neurosim.compression.schedule`) -> intraneural blood flow
per ion pool (:mod:`~neurosim.compression.flow`, laid onto the axon by
:mod:`~neurosim.compression.lesion`) -> the ion layer; and, under sustained high
pressure, paranodal myelin retraction at the lesion edges
(:mod:`~neurosim.compression.damage`). :class:`CompressionDriver` couples them to an
:class:`~neurosim.simulate.ionic.IonicSimulation`; :func:`load_compression` reads
``models/compression/*.toml``.

>>> from neurosim.compression import load_compression
>>> cf = load_compression("models/compression/stenosis_single.toml")
>>> isim = IonicSimulation(model, cf.ions, drivers=[cf.driver()], ...)   # doctest: +SKIP
"""

from neurosim.compression.damage import DamageLaw, MyelinDamage
from neurosim.compression.driver import CompressionDriver
from neurosim.compression.flow import VESSEL_CLASSES, FlowLaw, Hyperaemia, VesselClass
from neurosim.compression.lesion import CORD_ENDS, Edge, Lesion, Level, RootGrid
from neurosim.compression.load import CompressionFile, load_compression, parse_speed
from neurosim.compression.schedule import (
    GAIT_FLEXED,
    GAIT_UPRIGHT,
    POSTURES,
    WALKING,
    Gait,
    Phase,
    PressureSchedule,
    constant,
    posture_schedule,
    ramp,
)

__all__ = [
    "CORD_ENDS",
    "GAIT_FLEXED",
    "GAIT_UPRIGHT",
    "POSTURES",
    "VESSEL_CLASSES",
    "WALKING",
    "CompressionDriver",
    "CompressionFile",
    "DamageLaw",
    "Edge",
    "FlowLaw",
    "Gait",
    "Hyperaemia",
    "Lesion",
    "Level",
    "MyelinDamage",
    "Phase",
    "PressureSchedule",
    "RootGrid",
    "VesselClass",
    "constant",
    "load_compression",
    "parse_speed",
    "posture_schedule",
    "ramp",
]
