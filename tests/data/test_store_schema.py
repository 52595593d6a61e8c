"""The store's tables come from the frame schemas, and are the tables they replaced."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pytest

from r2k import schemas
from r2k.data.store import (
    CALC_STATE,
    RUNS,
    SOURCES,
    TABLES,
    Store,
    create_table_sql,
    duckdb_type,
)
from r2k.errors import StoreError

if TYPE_CHECKING:
    from pathlib import Path

# The SQL the store wrote out by hand before its tables were generated (issue 8):
# the generated tables must be exactly these.
LEGACY_SQL = """
CREATE TABLE sources (
    name VARCHAR, digest VARCHAR, kind VARCHAR, rows BIGINT,
    loaded_at TIMESTAMP, PRIMARY KEY (kind, digest));
CREATE TABLE market (
    session DATE, security_id VARCHAR, name VARCHAR, close DOUBLE,
    volume BIGINT, shares_outstanding DOUBLE, total_market_cap DOUBLE,
    sector VARCHAR, PRIMARY KEY (session, security_id));
CREATE TABLE levels (
    index_name VARCHAR, session DATE, market_value DOUBLE,
    divisor DOUBLE, price_return DOUBLE, total_return DOUBLE,
    net_total_return DOUBLE, dividend_points DOUBLE,
    net_dividend_points DOUBLE, PRIMARY KEY (index_name, session));
CREATE TABLE constituents (
    index_name VARCHAR, session DATE, security_id VARCHAR,
    index_shares DOUBLE, closing_index_shares DOUBLE,
    float_factor DOUBLE, reference_price DOUBLE, close DOUBLE,
    price_carried BOOLEAN, dividend DOUBLE, opening_weight DOUBLE,
    closing_weight DOUBLE);
CREATE TABLE events (
    index_name VARCHAR, session DATE, security_id VARCHAR,
    action VARCHAR, timing VARCHAR, index_shares_before DOUBLE,
    index_shares_after DOUBLE, price DOUBLE, detail VARCHAR);
CREATE TABLE calc_state (
    index_name VARCHAR PRIMARY KEY, session DATE, state VARCHAR,
    settings VARCHAR, saved_at TIMESTAMP);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY, kind VARCHAR, rank_day DATE,
    effective_date DATE, rules VARCHAR, rules_digest VARCHAR,
    inputs VARCHAR, r2k_version VARCHAR, created_at TIMESTAMP);
"""

DESCRIBE = tuple[tuple[str, str, str, str | None], ...]


def _describe(con: duckdb.DuckDBPyConnection) -> dict[str, DESCRIBE]:
    """Every table: (column, type, nullable, key) per column, in order."""
    names = [str(r[0]) for r in con.sql("SHOW TABLES").fetchall()]
    return {
        name: tuple(
            (str(r[0]), str(r[1]), str(r[2]), r[3])
            for r in con.sql(f'DESCRIBE "{name}"').fetchall()
        )
        for name in names
    }


def _primary_keys(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, ...]]:
    rows = con.sql(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE constraint_type = 'PRIMARY KEY'"
    ).fetchall()
    return {str(name): tuple(columns) for name, columns in rows}


def test_the_tables_are_those_the_sql_used_to_create(tmp_path: Path) -> None:
    legacy = duckdb.connect(str(tmp_path / "legacy.duckdb"))
    legacy.execute(LEGACY_SQL)
    expected = _describe(legacy), _primary_keys(legacy)
    legacy.close()
    with Store(tmp_path / "s.duckdb") as db:
        new = {"meta", "calc_runs", "restatements"}  # store format 2 (issue 10)
        described = {k: v for k, v in _describe(db._con).items() if k not in new}
        keys = {k: v for k, v in _primary_keys(db._con).items() if k not in new}
        assert (described, keys) == expected


def test_every_table_has_its_schema_columns_types_and_key(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as db:
        described, keys = _describe(db._con), _primary_keys(db._con)
    assert set(described) == set(TABLES)
    for name, table in TABLES.items():
        columns = described[name]
        assert [c[0] for c in columns] == table.schema.names(), name
        assert [c[1] for c in columns] == [
            duckdb_type(t) for t in table.schema.dtypes()
        ], name
        assert keys.get(name, ()) == table.key, name


def test_calculated_tables_are_the_calculation_frames_with_index_name() -> None:
    per_index = {
        "levels": schemas.LEVELS,
        "constituents": schemas.CONSTITUENTS,
        "events": schemas.EVENTS,
    }
    for name, frame_schema in per_index.items():
        schema = TABLES[name].schema
        assert schema.names()[0] == "index_name"
        assert pl.Schema(list(schema.items())[1:]) == frame_schema
    assert TABLES["market"].schema == schemas.MARKET
    assert TABLES["sources"].schema == SOURCES
    assert TABLES["runs"].schema == RUNS
    assert TABLES["calc_state"].schema == CALC_STATE


def test_duckdb_types() -> None:
    assert duckdb_type(pl.String()) == "VARCHAR"
    assert duckdb_type(pl.Float64()) == "DOUBLE"
    assert duckdb_type(pl.Int64()) == "BIGINT"
    assert duckdb_type(pl.Boolean()) == "BOOLEAN"
    assert duckdb_type(pl.Date()) == "DATE"
    assert duckdb_type(pl.Datetime("us")) == "TIMESTAMP"
    with pytest.raises(StoreError, match=r"no DuckDB type for Int8; add it to"):
        duckdb_type(pl.Int8())


def test_create_table_sql() -> None:
    assert create_table_sql("calc_state") == (
        "CREATE TABLE IF NOT EXISTS calc_state (index_name VARCHAR, session DATE, "
        "state VARCHAR, settings VARCHAR, saved_at TIMESTAMP, "
        "PRIMARY KEY (index_name));\n"
    )


def test_rows_read_back_with_their_schema(tmp_path: Path) -> None:
    panel = pl.DataFrame(
        {
            "session": [date(2026, 4, 30)],
            "security_id": ["AAA"],
            "name": ["A Inc. Common Stock"],
            "close": [10.0],
            "volume": [100],
            "shares_outstanding": [1e6],
            "total_market_cap": [1e7],
            "sector": ["Finance"],
        }
    )
    with Store(tmp_path / "s.duckdb") as db:
        assert db.load_market(panel, name="p.parquet", digest="abc")
        assert db.market_as_of(date(2026, 4, 30)).schema == schemas.MARKET
        sources = db._query("SELECT * FROM sources", [])
    assert sources.schema == SOURCES
    assert sources.row(0)[:4] == ("p.parquet", "abc", "market", 1)
