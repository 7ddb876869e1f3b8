"""driftwise: watch ML models in production and act when they stop being trustworthy."""

from driftwise._version import __version__

__all__ = ["__version__"]
