"""Data-quality warnings: raised by the readers, collected once per text."""

from __future__ import annotations

import warnings

import pytest

from r2k.data.sources.quality import collect_warnings, data_warning
from r2k.errors import DataQualityWarning


def _read_twice() -> None:
    for _ in range(2):  # the same line of code raises it twice
        data_warning("f.csv, line 3: repeats line 2")


def test_each_text_is_collected_once_and_shown_as_it_comes() -> None:
    shown: list[str] = []
    with collect_warnings(show=shown.append) as found:
        _read_twice()
        data_warning("p.parquet, row 9: dropped 1 exact duplicate row(s)")
    assert found == [
        "f.csv, line 3: repeats line 2",
        "p.parquet, row 9: dropped 1 exact duplicate row(s)",
    ]
    assert shown == found


def test_a_second_collection_sees_warnings_already_raised_once() -> None:
    # Python's default filter shows a warning once per code location; the
    # collector must count it in every command run by one process (tests, API).
    for _ in range(2):
        with collect_warnings() as found:
            _read_twice()
        assert found == ["f.csv, line 3: repeats line 2"]


def test_other_warnings_go_to_the_previous_handler() -> None:
    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        with collect_warnings() as found:
            warnings.warn("not about data", UserWarning, stacklevel=1)
            data_warning("about data")
    assert found == ["about data"]
    assert [str(w.message) for w in outside] == ["not about data"]


def test_outside_a_collection_it_is_an_ordinary_warning() -> None:
    with pytest.warns(DataQualityWarning, match="line 3"):
        data_warning("f.csv, line 3: repeats line 2")
