"""The embedded store: one DuckDB file holding inputs, outputs and the run log.

Default location: ``r2k.duckdb`` in the working directory, or ``$R2K_STORE``, or
``--store PATH``. The tables (see docs/data-model.md) are created from the frame
schemas (:data:`TABLES`: a schema and a primary key each; Polars types map to
DuckDB types in :func:`duckdb_type`), never written out again as SQL:

* ``sources(name, digest, kind, rows, loaded_at)``: every input file loaded;
* ``market``: the daily market panel (:data:`r2k.schemas.MARKET`), keyed by
  ``(session, security_id)``;
* ``runs(run_id, kind, rank_day, effective_date, rules, rules_digest, inputs,
  r2k_version, created_at)``: one row per reconstitution run; ``inputs`` is JSON of
  file name -> SHA-256;
* ``memberships``, ``exclusions``, ``changes``, ``breakpoints``: the frames of a
  :class:`r2k.construction.reconstitution.Reconstitution`, each with its ``run_id``;
* ``levels``, ``constituents``, ``events``: a calculated index series
  (:mod:`r2k.maintenance.engine`), each row tagged with ``index_name``;
* ``calc_state(index_name, session, state, settings, saved_at)``: the book at the
  last calculated close, from which the next incremental session starts.

Every write is one transaction: a failure leaves the store as it was. Writing the
same thing twice changes nothing: a source is keyed by its digest, a run by a
digest of its rank day, rule set and inputs.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import polars as pl

from r2k import __version__, schemas
from r2k.errors import StoreError
from r2k.maintenance.state import IndexState

if TYPE_CHECKING:
    from r2k.construction.reconstitution import Reconstitution
    from r2k.maintenance.engine import Calculation

ENV_VAR = "R2K_STORE"
DEFAULT_PATH = Path("r2k.duckdb")

# ------------------------------------------------------------ the tables

SOURCES = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stub misses Datetime instances here
        "name": pl.String,  # file name
        "digest": pl.String,  # SHA-256 of the file
        "kind": pl.String,  # "market"
        "rows": pl.Int64,
        "loaded_at": pl.Datetime("us"),  # UTC, naive
    }
)
RUNS = pl.Schema(
    {  # type: ignore[arg-type]
        "run_id": pl.String,  # run_id_for(kind, rank_day, rules_digest, inputs)
        "kind": pl.String,
        "rank_day": pl.Date,
        "effective_date": pl.Date,
        "rules": pl.String,  # name@version
        "rules_digest": pl.String,
        "inputs": pl.String,  # JSON: file name -> SHA-256
        "r2k_version": pl.String,
        "created_at": pl.Datetime("us"),  # UTC, naive
    }
)
CALC_STATE = pl.Schema(
    {  # type: ignore[arg-type]
        "index_name": pl.String,
        "session": pl.Date,  # the last calculated close
        "state": pl.String,  # IndexState.to_json()
        "settings": pl.String,  # JSON
        "saved_at": pl.Datetime("us"),  # UTC, naive
    }
)


class StoreTable(NamedTuple):
    """A table of the store: its columns and its primary key (may be empty)."""

    schema: pl.Schema
    key: tuple[str, ...] = ()


def _per_index(schema: pl.Schema) -> pl.Schema:
    """``schema`` with an ``index_name`` column first (a calculated series)."""
    return pl.Schema([("index_name", pl.String()), *schema.items()])


#: Every table the store creates, from the frame schemas (the reconstitution
#: frames ``memberships``, ``exclusions``, ``changes`` and ``breakpoints`` are
#: created from the first frame written, with a ``run_id`` column first).
TABLES: dict[str, StoreTable] = {
    "sources": StoreTable(SOURCES, ("kind", "digest")),
    "market": StoreTable(schemas.MARKET, ("session", "security_id")),
    "levels": StoreTable(_per_index(schemas.LEVELS), ("index_name", "session")),
    "constituents": StoreTable(_per_index(schemas.CONSTITUENTS)),
    "events": StoreTable(_per_index(schemas.EVENTS)),
    "calc_state": StoreTable(CALC_STATE, ("index_name",)),
    "runs": StoreTable(RUNS, ("run_id",)),
}

_DUCKDB_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "VARCHAR",
    pl.Float64: "DOUBLE",
    pl.Int64: "BIGINT",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Datetime: "TIMESTAMP",
}


def duckdb_type(dtype: pl.DataType) -> str:
    """The DuckDB column type that stores a Polars ``dtype``.

    >>> duckdb_type(pl.Float64()), duckdb_type(pl.Datetime("us"))
    ('DOUBLE', 'TIMESTAMP')
    """
    name = _DUCKDB_TYPES.get(dtype.base_type())
    if name is None:
        msg = f"no DuckDB type for {dtype}; add it to r2k.data.store._DUCKDB_TYPES"
        raise StoreError(msg)
    return name


def create_table_sql(name: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for table ``name`` of :data:`TABLES`."""
    table = TABLES[name]
    columns = [f"{col} {duckdb_type(dtype)}" for col, dtype in table.schema.items()]
    if table.key:
        columns.append(f"PRIMARY KEY ({', '.join(table.key)})")
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)});\n"


def resolve_store_path(path: str | Path | None = None) -> Path:
    """The store path from ``path``, else ``$R2K_STORE``, else ``./r2k.duckdb``."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else DEFAULT_PATH


def run_id_for(
    kind: str, rank_day: object, rules_digest: str, inputs: dict[str, str]
) -> str:
    """Deterministic id of a run: the same work always gets the same id."""
    payload = json.dumps(
        {
            "kind": kind,
            "rank_day": str(rank_day),
            "rules": rules_digest,
            "inputs": inputs,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Store:
    """A DuckDB store file. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.parent and not self.path.parent.exists():
            msg = (
                f"store {self.path}: folder {self.path.parent} does not exist; "
                "create it or pass another --store"
            )
            raise StoreError(msg)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            msg = f"store {self.path}: cannot be opened ({exc}); pass another --store"
            raise StoreError(msg) from None
        self._create()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def _create(self) -> None:
        self._con.execute("".join(create_table_sql(name) for name in TABLES))

    def _transaction(self, work: list[tuple[str, pl.DataFrame | None]]) -> None:
        """Run statements atomically, each with an optional frame named ``frame``."""
        con = self._con
        try:
            con.execute("BEGIN TRANSACTION")
            for sql, frame in work:
                if frame is not None:
                    con.register("frame", frame.to_arrow())
                    try:
                        con.execute(sql)
                    finally:
                        con.unregister("frame")
                else:
                    con.execute(sql)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            msg = f"store {self.path}: write failed and was rolled back ({exc})"
            raise StoreError(msg) from None

    def has_source(self, kind: str, digest: str) -> bool:
        """Whether a source with this digest was loaded."""
        return (
            self._count(
                "SELECT count(*) FROM sources WHERE kind = ? AND digest = ?",
                [kind, digest],
            )
            > 0
        )

    def load_market(self, panel: pl.DataFrame, *, name: str, digest: str) -> bool:
        """Load a market panel; returns False when this exact file was loaded before.

        Rows replace stored rows of the same ``(session, security_id)``.
        """
        if self.has_source("market", digest):
            return False
        frame = schemas.check_schema(panel, schemas.MARKET, source=name)
        source = pl.DataFrame(
            {
                "name": [name],
                "digest": [digest],
                "kind": ["market"],
                "rows": [frame.height],
                "loaded_at": [datetime.now(UTC).replace(tzinfo=None)],
            },
            schema=SOURCES,
        )
        self._transaction(
            [
                (
                    "DELETE FROM market USING frame "
                    "WHERE market.session = frame.session "
                    "AND market.security_id = frame.security_id",
                    frame,
                ),
                ("INSERT INTO market SELECT * FROM frame", frame),
                ("INSERT INTO sources SELECT * FROM frame", source),
            ]
        )
        return True

    def market_as_of(self, as_of: object) -> pl.DataFrame:
        """Stored market rows dated on or before ``as_of`` (point-in-time)."""
        return self._query(
            "SELECT * FROM market WHERE session <= ? ORDER BY session, security_id",
            [as_of],
        )

    def save_reconstitution(
        self, result: Reconstitution, *, kind: str, inputs: dict[str, str]
    ) -> tuple[str, bool]:
        """Store a reconstitution; returns ``(run_id, written)``.

        A run with the same id (same rank day, rule set and input digests) is not
        written again.
        """
        run_id = run_id_for(kind, result.rank_day, result.rules_digest, inputs)
        if self._count("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]):
            return run_id, False
        run = pl.DataFrame(
            {
                "run_id": [run_id],
                "kind": [kind],
                "rank_day": [result.rank_day],
                "effective_date": [result.effective_date],
                "rules": [result.rules],
                "rules_digest": [result.rules_digest],
                "inputs": [json.dumps(inputs, sort_keys=True)],
                "r2k_version": [__version__],
                "created_at": [datetime.now(UTC).replace(tzinfo=None)],
            },
            schema=RUNS,
        )
        frames = {
            "memberships": result.membership,
            "exclusions": result.exclusions,
            "changes": result.changes,
            "breakpoints": result.breakpoints,
        }
        work: list[tuple[str, pl.DataFrame | None]] = [
            ("INSERT INTO runs SELECT * FROM frame", run)
        ]
        for table, frame in frames.items():
            tagged = frame.select(pl.lit(run_id).alias("run_id"), pl.all())
            work.append(
                (f"CREATE TABLE IF NOT EXISTS {table} AS FROM frame LIMIT 0", tagged)
            )
            work.append((f"INSERT INTO {table} SELECT * FROM frame", tagged))
        self._transaction(work)
        return run_id, True

    def save_calculation(
        self, index_name: str, calc: Calculation, *, settings: dict[str, object]
    ) -> None:
        """Store a calculated series and its final state, in one transaction.

        Stored rows of ``index_name`` dated on or after the first session of
        ``calc.levels`` are replaced (a restatement), so saving the same
        calculation twice leaves the same rows.
        """
        first = calc.levels["session"].min()
        name = pl.lit(index_name).alias("index_name")
        state = pl.DataFrame(
            {
                "index_name": [index_name],
                "session": [calc.state.session],
                "state": [calc.state.to_json()],
                "settings": [json.dumps(settings, sort_keys=True, default=str)],
                "saved_at": [datetime.now(UTC).replace(tzinfo=None)],
            },
            schema=CALC_STATE,
        )
        key = pl.DataFrame({"index_name": [index_name], "first": [first]})
        work: list[tuple[str, pl.DataFrame | None]] = []
        for table in ("levels", "constituents", "events"):
            work.append(
                (
                    f"DELETE FROM {table} USING frame WHERE {table}.index_name = "
                    f"frame.index_name AND {table}.session >= frame.first",
                    key,
                )
            )
        work += [
            (
                "INSERT INTO levels SELECT * FROM frame",
                calc.levels.select(name, pl.all()),
            ),
            (
                "INSERT INTO constituents SELECT * FROM frame",
                calc.constituents.select(name, pl.all()),
            ),
            (
                "INSERT INTO events SELECT * FROM frame",
                calc.events.select(name, pl.all()),
            ),
            (
                "DELETE FROM calc_state USING frame "
                "WHERE calc_state.index_name = frame.index_name",
                state,
            ),
            ("INSERT INTO calc_state SELECT * FROM frame", state),
        ]
        self._transaction(work)

    def load_state(
        self, index_name: str
    ) -> tuple[IndexState, dict[str, object]] | None:
        """The stored state of ``index_name`` and its settings, or None."""
        rows = self._con.sql(
            "SELECT state, settings FROM calc_state WHERE index_name = ?",
            params=[index_name],
        ).fetchall()
        if not rows:
            return None
        return IndexState.from_json(str(rows[0][0])), json.loads(str(rows[0][1]))

    def levels(self, index_name: str) -> pl.DataFrame:
        """Stored levels of ``index_name`` in session order."""
        return self._query(
            "SELECT * EXCLUDE (index_name) FROM levels WHERE index_name = ? "
            "ORDER BY session",
            [index_name],
        )

    def constituents(self, index_name: str, session: object) -> pl.DataFrame:
        """The stored constituent file of one session."""
        return self._query(
            "SELECT * EXCLUDE (index_name) FROM constituents WHERE index_name = ? "
            "AND session = ? ORDER BY security_id",
            [index_name, session],
        )

    def events(self, index_name: str) -> pl.DataFrame:
        """The stored event log of ``index_name``."""
        return self._query(
            "SELECT * EXCLUDE (index_name) FROM events WHERE index_name = ? "
            "ORDER BY session, security_id, action",
            [index_name],
        )

    def runs(self) -> pl.DataFrame:
        """The run log, newest first."""
        return self._query("SELECT * FROM runs ORDER BY created_at DESC", [])

    def membership(self, run_id: str) -> pl.DataFrame:
        """The stored membership of one run."""
        return self._query(
            "SELECT * EXCLUDE (run_id) FROM memberships WHERE run_id = ? "
            "ORDER BY rank, is_pricing_vehicle DESC, security_id",
            [run_id],
        )

    def _query(self, sql: str, params: list[object]) -> pl.DataFrame:
        table = self._con.sql(sql, params=params).to_arrow_table()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def table_counts(self) -> dict[str, int]:
        """Row count of every table (for tests and the demo summary)."""
        names = [str(r[0]) for r in self._con.sql("SHOW TABLES").fetchall()]
        return {
            name: self._count(f'SELECT count(*) FROM "{name}"', []) for name in names
        }

    def _count(self, sql: str, params: list[object]) -> int:
        rows = self._con.sql(sql, params=params).fetchall()
        return int(rows[0][0]) if rows else 0
