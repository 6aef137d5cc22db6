"""The architecture model: snapshot.json built from events in one streaming pass."""

from .version import SNAPSHOT_FORMAT_VERSION

__all__ = ["SNAPSHOT_FORMAT_VERSION"]
