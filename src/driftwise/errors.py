"""The one small error hierarchy every driftwise failure a user can act on belongs to."""


class DriftwiseError(Exception):
    """Base class: a problem with the user's input or usage, with a message that says what to do."""


class SchemaError(DriftwiseError):
    """Columns are missing, extra, of the wrong type, or hold values that cannot be tested."""


class InputFileError(DriftwiseError):
    """A file or folder that is not readable CSV or Parquet (or not a driftwise profile)."""


class NotFittedError(DriftwiseError):
    """A detector was used before ``fit`` was called."""


class InsufficientDataError(DriftwiseError):
    """A sample is empty or too small for the requested computation."""


class ConfigError(DriftwiseError):
    """A configuration key or value is unknown or invalid."""


class NothingTestedError(InsufficientDataError):
    """A comparison ended with no column (and no multivariate, text or embedding part) tested."""


class UsageError(DriftwiseError):
    """Options that contradict each other or cannot be honoured (an output path that cannot
    be written, a flag a Monitor configuration has no use for)."""


class StateError(DriftwiseError):
    """A saved detector state is malformed, of another detector type, or of another version."""


class NotFoundError(DriftwiseError):
    """A model, window or key that the store does not hold."""


class ConflictError(DriftwiseError):
    """A write that contradicts what the store already holds (a model name taken, a record id
    sent again with a different payload)."""


class StoreError(DriftwiseError):
    """The store cannot be opened or is not at the migration this driftwise needs."""


__all__ = [
    "ConfigError",
    "ConflictError",
    "DriftwiseError",
    "InputFileError",
    "InsufficientDataError",
    "NotFittedError",
    "NotFoundError",
    "NothingTestedError",
    "SchemaError",
    "StateError",
    "StoreError",
    "UsageError",
]
