"""Point-in-time: the reconstitution reads nothing after the rank day but which
lines stopped trading up to ``as_of`` (real data, read in place; the modified panel
is written to a temporary directory beside links to the other real files)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.data.datadir import DataDir
from r2k.errors import MissingDataError
from r2k.methodology.rule_sets import RuleSet
from r2k.workflows.pipeline import run_reconstitution

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from r2k.workflows.pipeline import ReconRun

RANK_DAY = date(2026, 4, 30)
AS_OF = date(2026, 6, 25)  # the session before the 2026-06-26 effective date


def _copy_with_panel(
    data: DataDir, tmp: Path, change: Callable[[pl.DataFrame], pl.DataFrame]
) -> DataDir:
    """A data directory linking every real folder but ``market/``, which holds
    ``change`` applied to the raw panel."""
    for entry in data.root.iterdir():
        if entry.name != "market":
            (tmp / entry.name).symlink_to(entry)
    (tmp / "market").mkdir()
    raw = pl.read_parquet(data.market_panel)
    change(raw).write_parquet(tmp / "market" / data.market_panel.name)
    return DataDir.resolve(tmp)


def _after_rank_day() -> pl.Expr:
    return pl.col("asof_date").cast(pl.Date) > RANK_DAY


def _same(a: ReconRun, b: ReconRun) -> None:
    for name in ("membership", "exclusions", "changes", "breakpoints"):
        assert_frame_equal(getattr(a.result, name), getattr(b.result, name))
    assert_frame_equal(a.repairs.sort(pl.all()), b.repairs.sort(pl.all()))


def test_prices_and_volumes_after_the_rank_day_change_nothing(
    data_dir: DataDir, tmp_path: Path
) -> None:
    rng = np.random.default_rng(9)

    def scramble(raw: pl.DataFrame) -> pl.DataFrame:
        noise = pl.Series(rng.uniform(0.2, 5.0, raw.height))
        late = _after_rank_day()
        return raw.with_columns(
            price=pl.when(late).then(pl.col("price") * noise).otherwise("price"),
            volume=pl.when(late)
            .then((pl.col("volume") * noise).cast(raw["volume"].dtype))
            .otherwise("volume"),
        )

    scrambled = _copy_with_panel(data_dir, tmp_path, scramble)
    real = run_reconstitution(data_dir, RANK_DAY, as_of=AS_OF)
    other = run_reconstitution(scrambled, RANK_DAY, as_of=AS_OF)
    _same(real, other)
    # as_of does learn something: lines that stopped trading are left out.
    ceased = real.result.exclusions.filter(
        pl.col("exclusion_reason") == "stopped_trading"
    )
    assert ceased.height > 0
    assert real.result.counts()["r3000"] < 3000


def test_without_as_of_no_row_after_the_rank_day_is_read(
    data_dir: DataDir, tmp_path: Path
) -> None:
    cut = _copy_with_panel(
        data_dir, tmp_path, lambda raw: raw.filter(~_after_rank_day())
    )
    _same(run_reconstitution(data_dir, RANK_DAY), run_reconstitution(cut, RANK_DAY))


def test_as_of_before_the_rank_day_is_an_error(data_dir: DataDir) -> None:
    with pytest.raises(MissingDataError, match="before the rank day"):
        run_reconstitution(data_dir, RANK_DAY, as_of=date(2026, 4, 1))


def _change_of(run: ReconRun, security_id: str) -> str | None:
    rows = run.result.changes.filter(pl.col("security_id") == security_id)
    return None if rows.height == 0 else str(rows["change"][0])


def test_lines_the_fund_came_to_hold_by_as_of_are_incumbents(
    data_dir: DataDir,
) -> None:
    # EFOR (first traded 2026-04-24) and TRAX (2026-04-20) are not in the
    # incumbent file (IWM, 2026-04-10) but IWM holds them on 2026-05-05 and in the
    # June snapshots: members before the reconstitution (spin-offs), so a stay for
    # the funds, not an add (on 2026-06-26 they traded 1.1x and 2.4x their volume).
    joined = ("EFOR", "TRAX")
    late = run_reconstitution(data_dir, RANK_DAY, as_of=AS_OF)
    r2000 = set(late.result.index("r2000")["security_id"].to_list())
    for sid in joined:
        assert _change_of(late, sid) is None
        assert sid in r2000
    assert any("(EFOR, TRAX)" in note for note in late.notes)
    # Point in time: an as-of before any later fund list reads none of them.
    early = run_reconstitution(data_dir, RANK_DAY, as_of=date(2026, 5, 4))
    assert [_change_of(early, sid) for sid in joined] == ["add", "add"]
    assert not any("joined between" in note for note in early.notes)


def test_despacs_in_their_lock_up_are_not_yet_eligible(data_dir: DataDir) -> None:
    # R7 §4.3.4: a de-SPAC is considered only after its longest stated lock-up.
    # Eagle Nuclear (NUCL) began trading with its warrants (NUCLW) on 2026-02-25,
    # two months before the rank day: not ranked, no add (it traded 0.4x its
    # volume on the effective date). The rule set's setting turns the rule off.
    run = run_reconstitution(data_dir, RANK_DAY, as_of=AS_OF)
    lockup = run.repairs.filter(pl.col("repair") == "despac_lockup")
    assert "NUCL" in lockup["security_id"].to_list()
    assert "NUCL" not in run.result.membership["security_id"].to_list()
    assert _change_of(run, "NUCL") is None
    rules = RuleSet.default()
    off = replace(rules, eligibility=replace(rules.eligibility, despac_lockup_days=0))
    plain = run_reconstitution(data_dir, RANK_DAY, rules=off, as_of=AS_OF)
    assert plain.repairs.filter(pl.col("repair") == "despac_lockup").height == 0
    assert _change_of(plain, "NUCL") == "add"
