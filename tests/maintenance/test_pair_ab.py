"""The paired A/B bench (bench/pair_ab.py): ratios by hand, and one real pair."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.pair_ab import Paired, main, run_pairs

ROOT = Path(__file__).resolve().parents[2]


def test_ratios_and_report_by_hand() -> None:
    paired = Paired(a=(2.0, 4.0, 1.0), b=(1.0, 5.0, 1.5))
    assert paired.ratios == (0.5, 1.25, 1.5)
    text = paired.report("old", "new")
    assert "A old: min 1.00 s, median 2.00 s" in text
    assert "B new: min 1.00 s, median 1.50 s" in text
    assert "B / A over 3 pairs: median 1.250 (range 0.500 - 1.500)" in text


def test_a_directory_that_is_no_checkout_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), str(ROOT)])
    assert stop.value.code == 2
    assert "is not an r2k checkout" in capsys.readouterr().err


def test_one_pair_of_this_checkout_against_itself() -> None:
    paired = run_pairs(ROOT, ROOT, years=1, companies=1500, pairs=2)
    assert len(paired.a) == len(paired.b) == 2
    assert all(t > 0 for t in (*paired.a, *paired.b))
