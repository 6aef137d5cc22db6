"""Typed events: the stage between capture (compact records) and the model."""

from .types import EVENT_KINDS, FORMAT_VERSION, Endpoint, Event, TraceEnd, TraceHeader

__all__ = ["EVENT_KINDS", "FORMAT_VERSION", "Endpoint", "Event", "TraceEnd", "TraceHeader"]
