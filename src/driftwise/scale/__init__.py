"""Scale-out: the Dask engine, for data larger than one machine's memory (``driftwise[dask]``).

Importing this package does not import Dask; the engine does when it first runs.
"""

from driftwise.scale.dask_engine import DaskEngine, Partitions

__all__ = ["DaskEngine", "Partitions"]
