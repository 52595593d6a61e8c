"""Point-in-time: the reconstitution reads nothing after the rank day but which
lines stopped trading up to ``as_of`` (real data, read in place; the modified panel
is written to a temporary directory beside links to the other real files)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.data.datadir import DataDir
from r2k.errors import MissingDataError
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
