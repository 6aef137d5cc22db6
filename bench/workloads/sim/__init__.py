"""A tiny deterministic particle simulation used by call_heavy.py.

Split over several modules on purpose: a tracer should show calls crossing
project modules (vector -> particle -> world).
"""
from .vector import Vector
from .particle import Particle
from .world import World

__all__ = ["Vector", "Particle", "World"]
