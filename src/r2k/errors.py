"""One error hierarchy for r2k.

Every error raised on purpose by r2k derives from :class:`R2KError`. Errors that a
caller might catch as a builtin also derive from that builtin (``ValueError``,
``LookupError``, ``FileNotFoundError``), the way ``exchange_calendars`` does. Each
message names the file, row or field at fault and says how to fix the call.
"""

from __future__ import annotations


class R2KError(Exception):
    """Base class for every error raised by r2k."""


class DataDirectoryError(R2KError, FileNotFoundError):
    """The data directory is missing, or lacks a file r2k needs."""


class SourceFormatError(R2KError, ValueError):
    """A source file cannot be parsed: wrong preamble, missing columns, bad values."""


class SchemaError(R2KError, ValueError):
    """A frame is missing columns or has columns of the wrong type."""


class NotSessionError(R2KError, ValueError):
    """A date that must be an XNYS session is not one."""


class InputError(R2KError, ValueError):
    """An argument out of its range: a setting, a size, a window, a cash flow.

    Raised by the pure layers (construction, synthetic, funds) where a caller of
    the Python API passes a value the function cannot use; the command line
    checks its options first, so a user sees it only for a value it cannot check
    before the work (a redemption larger than the fund).
    """


class MissingDataError(R2KError, LookupError):
    """No data is available as of the requested date."""


class NoSnapshotError(MissingDataError):
    """The data holds no membership snapshot after the effective date.

    Raised by :mod:`r2k.fidelity.validation` (re-exported there); defined here so
    that the command line can catch it without importing the validation layer.
    """


class MethodologyError(R2KError, ValueError):
    """A rule set is inconsistent or cannot be read."""


class StoreError(R2KError):
    """The DuckDB store cannot be opened or written."""


class StoreVersionError(StoreError):
    """The store was written by another program or another store format version."""


class StoreLockedError(StoreError):
    """Another process holds the store's writer lock."""


class StoreCorruptError(StoreError):
    """The store file is truncated or corrupted (reported, never used)."""


class DataQualityWarning(UserWarning):
    """A documented repair was applied to input data (logged, never silent)."""
