"""The DuckDB store: idempotent loads, one transaction per write, the run log."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from r2k.construction.reconstitution import Reconstitution, reconstitute
from r2k.data.store import Store, resolve_store_path
from r2k.errors import StoreError
from r2k.methodology.rule_sets import RuleSet
from r2k.synthetic.universe import synthetic_universe

if TYPE_CHECKING:
    from pathlib import Path


def _result() -> Reconstitution:
    s = synthetic_universe(4200, seed=11)
    return reconstitute(
        s.universe,
        s.incumbents,
        RuleSet.default(),
        rank_day=date(2026, 4, 30),
        effective_date=date(2026, 6, 26),
    )


def _panel() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "session": [date(2026, 4, 29), date(2026, 4, 30), date(2026, 4, 30)],
            "security_id": ["AAA", "AAA", "BBB"],
            "name": [
                "A Inc. Common Stock",
                "A Inc. Common Stock",
                "B Inc. Common Stock",
            ],
            "close": [10.0, 11.0, 5.0],
            "volume": [100, 200, 300],
            "shares_outstanding": [1e6, 1e6, 2e6],
            "total_market_cap": [1e7, 1.1e7, 1e7],
            "sector": ["Finance", "Finance", "Technology"],
        }
    )


def test_saving_the_same_run_twice_changes_nothing(tmp_path: Path) -> None:
    result = _result()
    inputs = {"panel.parquet": "abc"}
    with Store(tmp_path / "s.duckdb") as db:
        run_id, written = db.save_reconstitution(result, kind="recon", inputs=inputs)
        assert written
        before = db.table_counts()
        again, written_again = db.save_reconstitution(
            result, kind="recon", inputs=inputs
        )
        assert again == run_id
        assert not written_again
        assert db.table_counts() == before
        stored = db.membership(run_id)
    assert_frame_equal(stored, result.membership)


def test_run_log_records_inputs_and_rules(tmp_path: Path) -> None:
    result = _result()
    with Store(tmp_path / "s.duckdb") as db:
        db.save_reconstitution(
            result, kind="recon", inputs={"a.csv": "1", "b.csv": "2"}
        )
        runs = db.runs()
    row = runs.row(0, named=True)
    assert row["rules"] == "russell-us@2026.1"
    assert row["rules_digest"] == RuleSet.default().digest
    assert '"a.csv": "1"' in row["inputs"]
    assert row["rank_day"] == date(2026, 4, 30)


def test_loading_the_same_panel_twice_changes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as db:
        assert db.load_market(_panel(), name="p.parquet", digest="d1")
        counts = db.table_counts()
        assert not db.load_market(_panel(), name="p.parquet", digest="d1")
        assert db.table_counts() == counts
        # A corrected file replaces rows with the same key, it does not duplicate them.
        fixed = _panel().with_columns(pl.col("close") * 2)
        assert db.load_market(fixed, name="p2.parquet", digest="d2")
        assert db.table_counts()["market"] == 3
        assert db.market_as_of(date(2026, 4, 29))["close"].to_list() == [20.0]


def test_failed_write_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as db:
        db.load_market(_panel(), name="p.parquet", digest="d1")
        before = db.table_counts()
        # Duplicate keys inside one file violate the primary key: the whole load
        # (rows and source record) must roll back.
        bad = pl.concat([_panel(), _panel().head(1)])
        with pytest.raises(StoreError, match="rolled back"):
            db.load_market(bad, name="bad.parquet", digest="d3")
        assert db.table_counts() == before
        assert not db.has_source("market", "d3")
    # The file is still a valid store afterwards.
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM market").fetchone() == (3,)
    con.close()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nope" / "s.duckdb")


def test_store_path_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("R2K_STORE", raising=False)
    assert resolve_store_path(None).name == "r2k.duckdb"
    monkeypatch.setenv("R2K_STORE", str(tmp_path / "x.duckdb"))
    assert resolve_store_path(None) == tmp_path / "x.duckdb"
    assert resolve_store_path(tmp_path / "y.duckdb") == tmp_path / "y.duckdb"
