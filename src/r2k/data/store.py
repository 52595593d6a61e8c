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
  last calculated close, from which the next incremental session starts;
* ``meta(key, value)``: the program (``r2k``) and the store format version
  (:data:`STORE_FORMAT`); a store of another program or version is refused
  (:class:`~r2k.errors.StoreVersionError`), migrations are explicit
  (:func:`migrate`);
* ``calc_runs``: every calculation saved, with its inputs' SHA-256, the rule set,
  the code version and the command line;
* ``restatements``: a stored level replaced by a different one (index, session,
  column, old and new value, the command that did it).

A writer lock (``<store>.lock``, linked into place whole, holding the pid, host,
command and start time) keeps two processes from writing one store; the second is
told who holds it (:class:`~r2k.errors.StoreLockedError`). A lock left by a
process that died (same host, pid gone) is taken over. A truncated or corrupted
file is reported (:class:`~r2k.errors.StoreCorruptError`), never used.

Every write is one transaction: a failure leaves the store as it was. Writing the
same thing twice changes nothing: a source is keyed by its digest, a run by a
digest of its rank day, rule set and inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import duckdb
import polars as pl

from r2k import __version__, schemas
from r2k.errors import (
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)

if TYPE_CHECKING:
    from r2k.construction.reconstitution import Reconstitution
    from r2k.maintenance.engine import Calculation
    from r2k.maintenance.state import IndexState

ENV_VAR = "R2K_STORE"
DEFAULT_PATH = Path("r2k.duckdb")
PROGRAM = "r2k"
#: The store format version; bump it (and add a step to :data:`MIGRATIONS`) when
#: a table changes. Format 1: r2k before the ``meta`` table.
STORE_FORMAT = 2

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

META = pl.Schema({"key": pl.String, "value": pl.String})
CALC_RUNS = pl.Schema(
    {  # type: ignore[arg-type]
        "index_name": pl.String,
        "first": pl.Date,  # first session written
        "last": pl.Date,  # last session written
        "inputs": pl.String,  # JSON: file name -> SHA-256
        "rules": pl.String,  # rule-set name@version (or digest)
        "r2k_version": pl.String,
        "command": pl.String,
        "created_at": pl.Datetime("us"),  # UTC, naive
    }
)
RESTATEMENTS = pl.Schema(
    {  # type: ignore[arg-type]
        "index_name": pl.String,
        "session": pl.Date,
        "field": pl.String,  # the level column restated
        "old": pl.Float64,
        "new": pl.Float64,
        "command": pl.String,
        "restated_at": pl.Datetime("us"),  # UTC, naive
    }
)
#: Level columns compared for restatements.
RESTATED_COLUMNS = ("price_return", "total_return", "net_total_return", "divisor")


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
    "meta": StoreTable(META, ("key",)),
    "calc_runs": StoreTable(CALC_RUNS),
    "restatements": StoreTable(RESTATEMENTS),
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


def command_line() -> str:
    """The command that is running (recorded with every write)."""
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(path: Path) -> Path:
    """The writer lock file of the store at ``path``."""
    return path.with_name(path.name + ".lock")


def lock_holder(path: Path) -> dict[str, object] | None:
    """Who holds the writer lock of the store at ``path`` (None when nobody)."""
    try:
        text = lock_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        info = json.loads(text)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


_HELD: dict[Path, int] = {}  # locks this process holds -> open stores using them
_HELD_GUARD = threading.Lock()


def _acquire_lock(path: Path) -> Path:
    lock = lock_path(path)
    key = lock.resolve()
    with _HELD_GUARD:
        if key in _HELD:  # another Store of this process (API threads)
            _HELD[key] += 1
            return lock
        taken = _take_lock(path, lock)
        _HELD[key] = 1
        return taken


def _release_lock(lock: Path) -> None:
    key = lock.resolve()
    with _HELD_GUARD:
        count = _HELD.pop(key, 1) - 1
        if count > 0:
            _HELD[key] = count
            return
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _take_lock(path: Path, lock: Path) -> Path:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command_line(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for _ in range(3):
        try:
            _create_lock_file(lock, json.dumps(info))
        except FileExistsError:
            holder = lock_holder(path)
            if holder is None:
                continue  # released meanwhile
            pid = holder.get("pid")
            if (
                holder.get("host") == info["host"]
                and isinstance(pid, int)
                and not _pid_alive(pid)
            ) or holder == {}:
                # a writer that died (or a lock file cut off): take it over
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            msg = (
                f"store {path} is locked by another r2k: pid {pid} on "
                f"{holder.get('host')}, running `{holder.get('command')}` since "
                f"{holder.get('since')}; wait for it to finish (or, if that "
                f"process is gone, delete {lock})"
            )
            raise StoreLockedError(msg) from None
        except OSError as exc:
            msg = f"store {path}: cannot create the lock file {lock} ({exc.strerror})"
            raise StoreError(msg) from None
        return lock
    msg = f"store {path}: cannot take the lock {lock}; try again"
    raise StoreLockedError(msg)


def _create_lock_file(lock: Path, text: str) -> None:
    """Create ``lock`` holding ``text``, whole from the moment it exists.

    The text goes to a temporary file first, which is then hard-linked to the
    lock's name (atomic, and fails with :class:`FileExistsError` when the lock
    exists), so no reader ever sees an empty lock and takes it for a dead one.
    Where the file system has no hard links, the lock is created with
    ``O_EXCL`` and written after.

    Raises
    ------
    FileExistsError
        If the lock exists.
    """
    tmp = lock.with_name(f"{lock.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.link(tmp, lock)
    except FileExistsError:
        raise
    except OSError:  # no hard links here: O_EXCL, then the text
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
    finally:
        tmp.unlink(missing_ok=True)


_HEADER = 3 * 4096  # DuckDB: three 4 KiB headers, then 256 KiB blocks
_BLOCK = 256 * 1024


def check_store_file(path: Path) -> None:
    """Raise :class:`StoreCorruptError` when ``path`` is not a whole DuckDB file."""
    fix = (
        "restore it from a backup, or move it away and rebuild it "
        "(`r2k calculate` writes a new store)"
    )
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(16)
    except OSError as exc:
        msg = f"store {path}: cannot be read ({exc.strerror}); pass another --store"
        raise StoreError(msg) from None
    if size == 0 or head[8:12] != b"DUCK":
        msg = f"store {path} is not a DuckDB store (empty or corrupted header); {fix}"
        raise StoreCorruptError(msg)
    checkpointing = path.with_name(path.name + ".wal").exists()
    if size < _HEADER or ((size - _HEADER) % _BLOCK and not checkpointing):
        # with a write-ahead log beside it, a part block at the end is a
        # checkpoint cut off by a crash: DuckDB replays the log over the blocks
        # the header names and rewrites the file whole
        msg = (
            f"store {path} is truncated ({size} bytes, not a whole number of "
            f"DuckDB blocks); {fix}"
        )
        raise StoreCorruptError(msg)


def _corrupt(path: Path, exc: BaseException) -> StoreCorruptError:
    return StoreCorruptError(
        f"store {path} is corrupted ({str(exc).splitlines()[0]}); restore it from a "
        "backup, or move it away and rebuild it (`r2k calculate` writes a new store)"
    )


#: Explicit migrations: from format N to N+1, as SQL run in one transaction.
MIGRATIONS: dict[int, str] = {
    1: "".join(
        create_table_sql(name) for name in ("meta", "calc_runs", "restatements")
    ),
}


def store_format(con: duckdb.DuckDBPyConnection) -> tuple[str | None, int | None]:
    """``(program, format)`` of an open store; ``(None, None)`` when it is empty."""
    names = {str(r[0]) for r in con.sql("SHOW TABLES").fetchall()}
    if not names:
        return None, None
    if "meta" not in names:
        if {"runs", "calc_state", "market"} <= names:
            return PROGRAM, 1
        return "", None
    meta = dict(con.sql("SELECT key, value FROM meta").fetchall())
    version = meta.get("format")
    return (
        str(meta.get("program", "")),
        int(version) if version and str(version).isdigit() else None,
    )


class Store:
    """A DuckDB store file. Use as a context manager.

    ``must_exist`` refuses a path with no store (instead of creating an empty
    one); ``migrate`` upgrades a store of an older format (explicitly).
    """

    def __init__(
        self, path: str | Path, *, must_exist: bool = False, migrate: bool = False
    ) -> None:
        self.path = Path(path)
        self._lock: Path | None = None
        if self.path.parent and not self.path.parent.exists():
            msg = (
                f"store {self.path}: folder {self.path.parent} does not exist; "
                "create it or pass another --store"
            )
            raise StoreError(msg)
        if self.path.is_dir():
            msg = f"store {self.path} is a folder; pass a file as --store"
            raise StoreError(msg)
        exists = self.path.exists()
        if not exists and must_exist:
            msg = f"store {self.path} does not exist; run `r2k calculate` first"
            raise StoreError(msg)
        if exists:
            check_store_file(self.path)
        self._lock = _acquire_lock(self.path)
        try:
            try:
                self._con = duckdb.connect(str(self.path))
            except duckdb.Error as exc:
                if exists:
                    raise _corrupt(self.path, exc) from None
                msg = (
                    f"store {self.path}: cannot be opened ({exc}); pass another --store"
                )
                raise StoreError(msg) from None
            try:
                self._open(migrate=migrate)
            except StoreError:
                self._con.close()
                raise
            except duckdb.Error as exc:
                self._con.close()
                raise _corrupt(self.path, exc) from None
        except BaseException:
            self._release()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and release the writer lock."""
        try:
            self._con.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            _release_lock(self._lock)
            self._lock = None

    def _open(self, *, migrate: bool) -> None:
        program, version = store_format(self._con)
        if program is None:
            self._create()
            return
        if program != PROGRAM:
            msg = (
                f"store {self.path} was not written by r2k (program "
                f"{program or 'unknown'}); pass another --store"
            )
            raise StoreVersionError(msg)
        if version is None or version > STORE_FORMAT:
            msg = (
                f"store {self.path} has store format {version or 'unknown'}, this "
                f"r2k ({__version__}) reads format {STORE_FORMAT}; use the r2k "
                "that wrote it, or pass another --store"
            )
            raise StoreVersionError(msg)
        if version < STORE_FORMAT:
            if not migrate:
                msg = (
                    f"store {self.path} has store format {version}, this r2k "
                    f"reads format {STORE_FORMAT}; migrate it explicitly with "
                    f"`r2k check --store {self.path} --migrate` (back it up first)"
                )
                raise StoreVersionError(msg)
            work: list[tuple[str, pl.DataFrame | None]] = [
                (MIGRATIONS[v], None) for v in range(version, STORE_FORMAT)
            ]
            work += self._meta_work()
            self._transaction(work)
        # touch every table: a damaged block fails here, not in the middle of work
        self.table_counts()

    def _meta_work(self) -> list[tuple[str, pl.DataFrame | None]]:
        meta = pl.DataFrame(
            {"key": ["program", "format"], "value": [PROGRAM, str(STORE_FORMAT)]},
            schema=META,
        )
        return [
            ("DELETE FROM meta", None),
            ("INSERT INTO meta SELECT * FROM frame", meta),
        ]

    def _create(self) -> None:
        work: list[tuple[str, pl.DataFrame | None]] = [
            ("".join(create_table_sql(name) for name in TABLES), None)
        ]
        self._transaction(work + self._meta_work())

    def format(self) -> tuple[str | None, int | None]:
        """``(program, store format)`` of this store."""
        return store_format(self._con)

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
        self,
        index_name: str,
        calc: Calculation,
        *,
        settings: dict[str, object],
        inputs: dict[str, str] | None = None,
        rules: str = "",
        command: str | None = None,
    ) -> pl.DataFrame:
        """Store a calculated series and its final state, in one transaction.

        Stored rows of ``index_name`` dated on or after the first session of
        ``calc.levels`` are replaced, so saving the same calculation twice leaves
        the same rows. A stored level that changes is recorded in
        ``restatements`` (old and new value); the run (inputs' SHA-256, rule set,
        code version, command) in ``calc_runs``. Returns the restatements.
        """
        first = calc.levels["session"].min()
        last = calc.levels["session"].max()
        cmd = command_line() if command is None else command
        now = datetime.now(UTC).replace(tzinfo=None)
        restated = self._restatements(index_name, calc.levels, cmd, now)
        run = pl.DataFrame(
            {
                "index_name": [index_name],
                "first": [first],
                "last": [last],
                "inputs": [json.dumps(inputs or {}, sort_keys=True)],
                "rules": [rules],
                "r2k_version": [__version__],
                "command": [cmd],
                "created_at": [now],
            },
            schema=CALC_RUNS,
        )
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
            (  # the same run recorded again (same inputs and command) is not
                "INSERT INTO calc_runs SELECT * FROM frame WHERE NOT EXISTS ("
                "SELECT 1 FROM calc_runs c WHERE c.index_name = frame.index_name "
                "AND c.first = frame.first AND c.last = frame.last "
                "AND c.inputs = frame.inputs AND c.rules = frame.rules "
                "AND c.r2k_version = frame.r2k_version "
                "AND c.command = frame.command)",
                run,
            ),
        ]
        if restated.height:
            work.append(("INSERT INTO restatements SELECT * FROM frame", restated))
        self._transaction(work)
        return restated

    def _restatements(
        self, index_name: str, levels: pl.DataFrame, command: str, now: datetime
    ) -> pl.DataFrame:
        """Stored levels that ``levels`` changes (old and new value per column)."""
        cols = [c for c in RESTATED_COLUMNS if c in levels.columns]
        stored = self._query(
            f"SELECT session, {', '.join(cols)} FROM levels WHERE index_name = ? "
            "AND session >= ? AND session <= ?",
            [index_name, levels["session"].min(), levels["session"].max()],
        )
        empty = pl.DataFrame(schema=RESTATEMENTS)
        if stored.height == 0:
            return empty
        joined = stored.join(levels.select("session", *cols), on="session")
        parts = [
            joined.filter(pl.col(c).ne_missing(pl.col(f"{c}_right"))).select(
                pl.lit(index_name).alias("index_name"),
                "session",
                pl.lit(c).alias("field"),
                pl.col(c).alias("old"),
                pl.col(f"{c}_right").alias("new"),
                pl.lit(command).alias("command"),
                pl.lit(now).alias("restated_at"),
            )
            for c in cols
        ]
        frame = pl.concat(parts).sort("session", "field")
        return frame.cast(dict(RESTATEMENTS.items())) if frame.height else empty

    def restatements(self, index_name: str | None = None) -> pl.DataFrame:
        """Recorded restatements (of ``index_name``, or all), oldest first."""
        if index_name is None:
            return self._query(
                "SELECT * FROM restatements ORDER BY restated_at, session, field", []
            )
        return self._query(
            "SELECT * FROM restatements WHERE index_name = ? "
            "ORDER BY restated_at, session, field",
            [index_name],
        )

    def calc_runs(self) -> pl.DataFrame:
        """The calculation log, oldest first."""
        return self._query("SELECT * FROM calc_runs ORDER BY created_at", [])

    def load_state(
        self, index_name: str
    ) -> tuple[IndexState, dict[str, object]] | None:
        """The stored state of ``index_name`` and its settings, or None."""
        # Imported here: the maintenance package (and NumPy) stay off the
        # commands that only read and write runs (r2k reconstitute).
        from r2k.maintenance.state import IndexState

        rows = self._con.sql(
            "SELECT state, settings FROM calc_state WHERE index_name = ?",
            params=[index_name],
        ).fetchall()
        if not rows:
            return None
        try:
            settings = json.loads(str(rows[0][1]))
            if not isinstance(settings, dict) or "start" not in settings:
                msg = "settings lack the key start"
                raise ValueError(msg)
            return IndexState.from_json(str(rows[0][0])), settings
        except (ValueError, KeyError, TypeError) as exc:
            msg = (
                f"store {self.path}: the stored state of {index_name} is damaged "
                f"({exc}); recalculate it with `r2k calculate`"
            )
            raise StoreCorruptError(msg) from None

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


def preflight(path: str | Path) -> Path:
    """Check, before any work, that the store at ``path`` can be opened.

    Creates nothing: the folder must exist, ``path`` must not be a folder; an
    existing store must be whole, of this program and format, and not locked by a
    live process. The same errors as :class:`Store`.
    """
    target = Path(path)
    if target.parent and not target.parent.is_dir():
        what = "is a file" if target.parent.exists() else "does not exist"
        msg = (
            f"store {target}: folder {target.parent} {what}; "
            "create it or pass another --store"
        )
        raise StoreError(msg)
    if target.is_dir():
        msg = f"store {target} is a folder; pass a file as --store"
        raise StoreError(msg)
    if not os.access(target.parent, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        msg = f"store {target}: permission denied; pass a store you can write"
        raise StoreError(msg)
    holder = lock_holder(target)
    if holder:
        pid = holder.get("pid")
        same_host = holder.get("host") == socket.gethostname()
        alive = not (
            same_host
            and isinstance(pid, int)
            and (pid == os.getpid() or not _pid_alive(pid))
        )
        if alive:
            msg = (
                f"store {target} is locked by another r2k: pid {pid} on "
                f"{holder.get('host')}, running `{holder.get('command')}` since "
                f"{holder.get('since')}; wait for it to finish (or, if that "
                f"process is gone, delete {lock_path(target)})"
            )
            raise StoreLockedError(msg)
    if not target.exists() or lock_path(target).resolve() in _HELD:
        return target  # nothing to check, or open (and checked) in this process
    check_store_file(target)
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            msg = f"store {target} is in use by another process; try again later"
            raise StoreLockedError(msg) from None
        raise _corrupt(target, exc) from None
    try:
        program, version = store_format(con)
    except duckdb.Error as exc:
        raise _corrupt(target, exc) from None
    finally:
        con.close()
    if program is not None and (program != PROGRAM or version != STORE_FORMAT):
        msg = (
            f"store {target} has program {program or 'unknown'}, store format "
            f"{version or 'unknown'}; this r2k ({__version__}) reads {PROGRAM} "
            f"format {STORE_FORMAT}"
            + (
                f"; migrate it with `r2k check --store {target} --migrate`"
                if program == PROGRAM and version is not None and version < STORE_FORMAT
                else "; pass another --store"
            )
        )
        raise StoreVersionError(msg)
    return target
