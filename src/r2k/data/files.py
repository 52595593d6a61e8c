"""Output files, written atomically: the one way r2k writes a file.

:func:`write_atomic` writes to a temporary file in the target's own folder, flushes
it to disk (``fsync``) and renames it over the target (``os.replace``), so a
reader sees the old file or the new one, never half of one, and a failed write
leaves the old file as it was. :func:`write_bytes_atomic` writes bytes that way;
:func:`write_frame` a frame as CSV, Parquet or JSON (an array of records),
chosen by the file's suffix; :func:`frame_bytes` encodes a frame the same way in
memory (for HTTP responses).

A file that cannot be written is an :class:`OutputFileError` naming the path and
the fix: the folder is missing (:class:`MissingFolderError`, also a
``FileNotFoundError``) or is a file, the folder is read-only, the path is a
folder, or the suffix names no format.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final

from r2k._typing import FileFormat
from r2k.errors import R2KError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import polars as pl

__all__ = [
    "FORMATS",
    "FileFormat",
    "MissingFolderError",
    "OutputFileError",
    "check_output_path",
    "format_of",
    "frame_bytes",
    "write_atomic",
    "write_bytes_atomic",
    "write_frame",
]

FORMATS: Final[tuple[FileFormat, ...]] = ("csv", "parquet", "json")
_NEW_FILE_MODE: Final = 0o644  # a new file; a replaced one keeps its mode


class OutputFileError(R2KError, OSError):
    """An output file cannot be written; the message names the path and the fix."""


class MissingFolderError(OutputFileError, FileNotFoundError):
    """The folder of an output file does not exist."""


def write_atomic(
    path: str | os.PathLike[str],
    writer: Callable[[BinaryIO], object],
    *,
    parents: bool = False,
) -> Path:
    """Write a file atomically: ``writer`` fills a temporary file, which replaces it.

    Parameters
    ----------
    path : str or path-like
        The file to write (replaced if it exists).
    writer : callable
        Called once with a binary stream open for writing.
    parents : bool, default False
        Create the folder (and its parents) if missing; otherwise a missing folder
        is an error.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputFileError
        If the file cannot be written (:class:`MissingFolderError` when its folder
        does not exist). An error, or an exception from ``writer``, leaves any old
        file intact and no temporary file behind.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", lambda f: f.write(b"hello")).read_text()
    'hello'
    """
    target = Path(path)
    folder = _folder(target, parents=parents)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else _NEW_FILE_MODE
    try:
        handle, name = tempfile.mkstemp(
            dir=folder, prefix=f".{target.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _error(target, exc) from None
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            writer(stream)
            stream.flush()
            os.fsync(stream.fileno())
        tmp.chmod(mode)
        tmp.replace(target)
    except R2KError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _error(target, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync(folder)
    return target


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, parents: bool = False
) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomic`)."""
    return write_atomic(path, lambda stream: stream.write(data), parents=parents)


def format_of(
    path: str | os.PathLike[str], formats: Sequence[FileFormat] = FORMATS
) -> FileFormat:
    """The format a file's suffix names (``.csv``, ``.parquet``, ``.json``).

    Raises
    ------
    OutputFileError
        If the suffix names none of ``formats``.

    Examples
    --------
    >>> format_of("out/levels.CSV")
    'csv'
    """
    target = Path(path)
    suffix = target.suffix.lower().lstrip(".")
    for fmt in formats:
        if suffix == fmt:
            return fmt
    raise _suffix_error(target, formats)


def _suffix_error(target: Path, formats: Sequence[str]) -> OutputFileError:
    shown = target.suffix or "no suffix"
    names = " or ".join(f".{f}" for f in formats)
    msg = f"cannot write {target}: {shown} is not a format r2k writes; name it {names}"
    return OutputFileError(msg)


def check_output_path(
    path: str | os.PathLike[str],
    formats: Sequence[str] | None = FORMATS,
    *,
    parents: bool = False,
) -> Path:
    """Check, before any work, that ``path`` can be written; creates nothing.

    The same checks as :func:`write_frame` (suffix, a folder in the way, a file
    where the folder should be, a missing folder unless ``parents``, a folder
    that cannot be written), so a command fails before it computes or stores.

    Parameters
    ----------
    path : str or path-like
        The file to be written.
    formats : sequence of str, optional
        The suffixes accepted, without the dot (default: CSV, Parquet, JSON;
        ``("html",)`` for a report); None accepts any suffix (the format is
        given otherwise, e.g. by ``--format``).
    parents : bool, default False
        Whether the writer will create a missing folder.

    Raises
    ------
    OutputFileError
        Naming the path and the fix.
    """
    target = Path(path)
    if formats is not None and target.suffix.lower().lstrip(".") not in formats:
        raise _suffix_error(target, formats)
    if target.is_dir():
        msg = f"cannot write {target}: it is a folder; name a file in it"
        raise OutputFileError(msg)
    folder = target.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        msg = (
            f"cannot write {target}: {existing} is a file, not a folder; choose another"
        )
        raise OutputFileError(msg)
    if existing != folder and not parents:
        msg = (
            f"cannot write {target}: folder {folder} does not exist; "
            "create it or choose another path"
        )
        raise MissingFolderError(msg)
    if not os.access(existing, os.W_OK | os.X_OK):
        msg = (
            f"cannot write {target}: permission denied in folder {existing}; "
            "choose a folder you can write to"
        )
        raise OutputFileError(msg)
    return target


def frame_bytes(frame: pl.DataFrame, fmt: FileFormat) -> bytes:
    """``frame`` as CSV, Parquet or JSON bytes (JSON: records, ISO dates, NaN null).

    Examples
    --------
    >>> import polars as pl
    >>> frame_bytes(pl.DataFrame({"a": [1.5, float("nan")]}), "json")
    b'[{"a": 1.5}, {"a": null}]'
    """
    buffer = io.BytesIO()
    _encode(frame, fmt, buffer)
    return buffer.getvalue()


def write_frame(
    frame: pl.DataFrame,
    path: str | os.PathLike[str],
    fmt: FileFormat | None = None,
    *,
    formats: Sequence[FileFormat] = FORMATS,
    parents: bool = False,
) -> Path:
    """Write ``frame`` to ``path`` atomically as CSV, Parquet or JSON.

    Parameters
    ----------
    frame : pl.DataFrame
        The table.
    path : str or path-like
        The file; its suffix names the format unless ``fmt`` is given.
    fmt : {"csv", "parquet", "json"}, optional
        The format, whatever the suffix.
    formats : sequence of str, default all
        The suffixes accepted when ``fmt`` is not given.
    parents : bool, default False
        Create a missing folder (see :func:`write_atomic`).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputFileError
        If the suffix names no accepted format, or the file cannot be written.
    """
    chosen = fmt if fmt is not None else format_of(path, formats)
    return write_atomic(
        path, lambda stream: _encode(frame, chosen, stream), parents=parents
    )


def _encode(frame: pl.DataFrame, fmt: FileFormat, stream: BinaryIO) -> None:
    if fmt == "csv":
        frame.write_csv(stream)
    elif fmt == "parquet":
        frame.write_parquet(stream)
    elif fmt == "json":
        stream.write(json.dumps(_records(frame), allow_nan=False).encode())
    else:
        msg = f"format {fmt!r}: use one of {', '.join(FORMATS)}"
        raise OutputFileError(msg)


def _records(frame: pl.DataFrame) -> list[dict[str, object]]:
    def value(v: object) -> object:
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, float) and v != v:  # NaN
            return None
        return v

    return [
        {k: value(v) for k, v in row.items()} for row in frame.iter_rows(named=True)
    ]


def _folder(target: Path, *, parents: bool) -> Path:
    """The folder of ``target``, checked (and made, with ``parents``)."""
    folder = target.parent
    if target.is_dir():
        msg = f"cannot write {target}: it is a folder; name a file in it"
        raise OutputFileError(msg)
    if folder.exists() and not folder.is_dir():
        msg = f"cannot write {target}: {folder} is a file, not a folder; choose another"
        raise OutputFileError(msg)
    if not folder.exists():
        if not parents:
            msg = (
                f"cannot write {target}: folder {folder} does not exist; "
                "create it or choose another path"
            )
            raise MissingFolderError(msg)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(target, exc) from None
    return folder


def _error(target: Path, exc: OSError) -> OutputFileError:
    if isinstance(exc, PermissionError):
        return OutputFileError(
            f"cannot write {target}: permission denied in folder {target.parent}; "
            "choose a folder you can write to"
        )
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return OutputFileError(
            f"cannot write {target}: a file stands where a folder of the path "
            "should be; choose another path"
        )
    reason = exc.strerror or str(exc)
    return OutputFileError(
        f"cannot write {target}: {reason}; any old file is unchanged "
        "(free some space or choose another path)"
    )


def _sync(folder: Path) -> None:
    """Flush the rename to disk where the system allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
