"""The embedded store: one DuckDB file holding inputs, outputs and the run log.

Default location: ``r2k.duckdb`` in the working directory, or ``$R2K_STORE``, or
``--store PATH``. Tables (see docs/data-model.md):

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
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from r2k import __version__, schemas
from r2k.errors import StoreError
from r2k.maintenance.engine import IndexState

if TYPE_CHECKING:
    from r2k.construction.reconstitution import Reconstitution
    from r2k.maintenance.engine import Calculation

ENV_VAR = "R2K_STORE"
DEFAULT_PATH = Path("r2k.duckdb")
_RESULT_TABLES = ("memberships", "exclusions", "changes", "breakpoints")


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
        self._con.execute(
            """
            CREATE TABLE IF NOT EXISTS sources (
                name VARCHAR, digest VARCHAR, kind VARCHAR, rows BIGINT,
                loaded_at TIMESTAMP, PRIMARY KEY (kind, digest));
            CREATE TABLE IF NOT EXISTS market (
                session DATE, security_id VARCHAR, name VARCHAR, close DOUBLE,
                volume BIGINT, shares_outstanding DOUBLE, total_market_cap DOUBLE,
                sector VARCHAR, PRIMARY KEY (session, security_id));
            CREATE TABLE IF NOT EXISTS levels (
                index_name VARCHAR, session DATE, market_value DOUBLE,
                divisor DOUBLE, price_return DOUBLE, total_return DOUBLE,
                net_total_return DOUBLE, dividend_points DOUBLE,
                net_dividend_points DOUBLE, PRIMARY KEY (index_name, session));
            CREATE TABLE IF NOT EXISTS constituents (
                index_name VARCHAR, session DATE, security_id VARCHAR,
                index_shares DOUBLE, closing_index_shares DOUBLE,
                float_factor DOUBLE, reference_price DOUBLE, close DOUBLE,
                price_carried BOOLEAN, dividend DOUBLE, opening_weight DOUBLE,
                closing_weight DOUBLE);
            CREATE TABLE IF NOT EXISTS events (
                index_name VARCHAR, session DATE, security_id VARCHAR,
                action VARCHAR, timing VARCHAR, index_shares_before DOUBLE,
                index_shares_after DOUBLE, price DOUBLE, detail VARCHAR);
            CREATE TABLE IF NOT EXISTS calc_state (
                index_name VARCHAR PRIMARY KEY, session DATE, state VARCHAR,
                settings VARCHAR, saved_at TIMESTAMP);
            CREATE TABLE IF NOT EXISTS runs (
                run_id VARCHAR PRIMARY KEY, kind VARCHAR, rank_day DATE,
                effective_date DATE, rules VARCHAR, rules_digest VARCHAR,
                inputs VARCHAR, r2k_version VARCHAR, created_at TIMESTAMP);
            """
        )

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
            }
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
            }
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
            }
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
