"""Geometry builders: sections, their compartments, and the standard morphologies."""

from __future__ import annotations

from neurosim.morphology.tree import Geometry, Morphology, Section, parse_site

__all__ = ["Geometry", "Morphology", "Section", "parse_site"]
