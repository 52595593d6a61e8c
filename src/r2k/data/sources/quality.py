"""Data-quality warnings: how a reader reports usable but suspect data.

A value that cannot be right is an error (:class:`r2k.errors.SourceFormatError`);
data a user may want to go on with (an exactly repeated row, a price read as
unknown, a file whose name and contents disagree by a day) is a
:class:`r2k.errors.DataQualityWarning` raised with :func:`data_warning`. Its text
names the file, the line or row and the count of affected rows, like an error's.

:func:`collect_warnings` records every such warning raised inside it, each
distinct text once however often the file is read, so that a command can count
them (``r2k`` adds ``warnings`` and ``warning_messages`` to every ``--json``
output, see ``r2k.cli.options``).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from r2k.errors import DataQualityWarning

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["collect_warnings", "data_warning"]


def data_warning(message: str) -> None:
    """Raise a :class:`~r2k.errors.DataQualityWarning` with ``message``.

    Examples
    --------
    >>> with collect_warnings() as found:
    ...     data_warning("f.csv, line 3: repeats line 2")
    >>> found
    ['f.csv, line 3: repeats line 2']
    """
    warnings.warn(message, DataQualityWarning, stacklevel=3)


@contextmanager
def collect_warnings(
    show: Callable[[str], None] | None = None,
) -> Iterator[list[str]]:
    """Record the data-quality warnings raised inside, in order, each text once.

    Parameters
    ----------
    show : callable, optional
        Called with each new text as it is raised (the command line prints it on
        stderr); other warning categories go on to the previous handler.

    Yields
    ------
    list of str
        The texts, filled as warnings are raised.

    Notes
    -----
    Every :class:`~r2k.errors.DataQualityWarning` is recorded, however often the
    same line raised one before (the ``"always"`` filter), so a long-lived process
    (a test session, the API server) counts the same as a fresh one.
    """
    found: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("always", DataQualityWarning)
        previous = warnings.showwarning

        def record(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if not issubclass(category, DataQualityWarning):
                previous(message, category, filename, lineno, file, line)
                return
            text = str(message)
            if text in found:
                return
            found.append(text)
            if show is not None:
                show(text)

        warnings.showwarning = record
        yield found
