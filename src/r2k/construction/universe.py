"""The rank-day universe, built point-in-time from the daily market panel.

:func:`build_universe` turns the canonical market panel (:data:`r2k.schemas.MARKET`)
into the engine's input (:data:`r2k.schemas.UNIVERSE`) for one rank day, using only
rows dated on or before that day:

* security type from the name (:mod:`r2k.construction.classify`), with BDCs and
  closed-end funds named like companies recognised by name and sector
  (:func:`r2k.construction.classify.fund_structure`); exchange from the SEC ticker
  map when given (``OTC`` there makes a line ineligible);
* company grouping: lines whose names give the same company key *and* whose tickers
  share a root (``GOOG``/``GOOGL``, ``MOG.A``/``MOG.B``) form one company; two
  issuers that only share a name (``OWL``/``OBDC``, both "Blue Owl Capital") do not;
* shares: the panel's market cap over its price. Nasdaq reports the *company* total
  on every class line (``FOX`` and ``FOXA`` both carry all 425M shares), so when the
  lines of a company carry the same share count or the same cap (within 2%), the
  count is kept once, on the most traded line (repair ``company_level_shares``);
* a missing rank-day cap is filled with the latest share count seen before it
  (repair ``shares_carried_forward``);
* a share count that lags a reverse split is divided by the split ratio the
  prices show (repair ``split_lag``, :func:`split_lags`);
* ``avg_close_30d``: mean close over the sessions in the 30 calendar days before the
  rank day (R7 §5.8.1); ``avg_volume`` and ``addtv`` (average daily dollar volume):
  means over every session on or before the rank day (R7 asks for up to two years;
  the panel holds what it holds).

Every repair is listed in :attr:`UniverseBuild.repairs` and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from r2k import schemas
from r2k.construction.classify import LineClasses, share_class_expr
from r2k.errors import InputError, MissingDataError

log = logging.getLogger(__name__)
REPAIRS = pl.Schema(
    {"security_id": pl.String, "repair": pl.String, "detail": pl.String}
)
_NO_REPAIRS = pl.DataFrame(schema=REPAIRS)
#: Plain equity lines (common, ordinary and class shares).
_EQUITY = pl.col("security_type").is_in(["common", "ordinary", "class_share"])
_SAME = 0.02  # relative tolerance for "the same share count or cap"
# Company numbers (a null company_id is a company of its own, as in a window).
_COMPANY = pl.col("company_id").rank("dense").fill_null(0)
_EPOCH = date(1970, 1, 1)  # day 0 of a Polars Date


@dataclass(frozen=True, slots=True)
class LineCodes:
    """The line of every row of a panel: ``lines[codes[i]]`` is row i's id."""

    lines: pl.Series  # distinct security_id values
    codes: np.ndarray  # one non-negative integer per row


@dataclass(frozen=True, slots=True, kw_only=True)
class UniverseBuild:
    """A rank-day universe with the repairs applied to build it."""

    rank_day: date
    universe: pl.DataFrame  # schemas.UNIVERSE
    repairs: pl.DataFrame  # REPAIRS
    # The source's line code of each universe row, when the build was given the
    # codes (``codes`` of :func:`build_universe`); None otherwise.
    line_codes: np.ndarray | None = None

    @property
    def securities(self) -> pl.DataFrame:
        """The universe's lines as :data:`r2k.schemas.SECURITIES`, as of the rank day.

        Made when asked for (the reconstitution reads only the universe): the
        share class from each line's name and ticker, the rest as the universe
        has it.
        """
        securities = self.universe.select(
            "security_id",
            ticker=pl.col("security_id"),
            name=pl.col("name"),
            company_id=pl.col("company_id"),
            share_class=share_class_expr("name", "security_id"),
            security_type=pl.col("security_type"),
            exchange=pl.col("exchange"),
            country=pl.col("country"),
            sector=pl.col("sector"),
        )
        return schemas.check_schema(securities, schemas.SECURITIES, source="securities")


def build_universe(
    panel: pl.DataFrame,
    rank_day: date,
    *,
    sec_tickers: pl.DataFrame | None = None,
    classes: LineClasses | None = None,
    codes: LineCodes | None = None,
    compiled: bool = False,
    cross_section: pl.DataFrame | None = None,
) -> UniverseBuild:
    """Build the universe of ``rank_day`` from the market panel (point-in-time).

    ``classes`` is the classification memo of the panel's data load
    (:class:`r2k.construction.classify.LineClasses`), so that a history
    reconstituted many times classifies each line once; None: classify here.
    ``codes`` are the panel rows' line codes when the source has them (a
    :class:`r2k.maintenance.market.MarketHistory` numbers its lines once); None:
    the lines are numbered here. ``compiled``: the per-line statistics may come
    from a compiled loop, which gives the group-by's values (a caller that has
    loaded Numba anyway, such as the batch's synthetic reconstitutor; it costs
    about a second to load). ``cross_section``: the rank day's rows, in
    ``panel``'s order, when ``panel`` holds only ``session`` and the numeric
    columns (:meth:`r2k.maintenance.market.MarketHistory.numeric_rows`, with
    ``codes``): the names and sectors of one session, not of the whole history.

    Raises
    ------
    MissingDataError
        If the panel has no rows for ``rank_day``.
    """
    history = _through(panel, rank_day)
    if history is not panel:  # rows after the rank day dropped: number again
        codes = None
    sourced = codes is not None  # ``_line`` holds the source's line codes
    if cross_section is not None and not sourced:
        msg = (
            "a cross-section beside a panel of numeric columns needs the source's "
            "line codes (codes=), over rows up to the rank day"
        )
        raise InputError(msg)
    ids, coded = _coded(history, codes)
    cross = _rows_on(coded, rank_day)
    if cross_section is not None and cross.height:
        if cross_section.height != cross.height:
            msg = (
                f"the cross-section has {cross_section.height} rows, the panel "
                f"{cross.height} on {rank_day}; give the rank day's rows with the "
                "source's line codes"
            )
            raise InputError(msg)
        cross = cross_section.hstack([cross.get_column("_line")])
    if cross.height == 0:
        sessions = panel["session"].unique().sort()
        before = sessions.filter(sessions < rank_day).tail(1)
        after = sessions.filter(sessions > rank_day).head(1)
        msg = (
            f"the market panel has no rows for rank day {rank_day} (nearest "
            f"sessions: before {before.item() if before.len() else 'none'}, "
            f"after {after.item() if after.len() else 'none'}); "
            "pick a rank day the panel covers"
        )
        raise MissingDataError(msg)
    # The statistics are keyed by line code (a line's code stands for its id;
    # a null id has a null code and matches nothing, as a null id would).
    stats = _history_stats(coded, rank_day, compiled=compiled)
    memo = LineClasses() if classes is None else classes
    with_stats = _with_stats(cross, stats)
    # By the source's line codes when there are some: a line is found by its
    # code while its keys stay those it had.
    classified = memo.attach(
        with_stats, with_stats["_line"].to_numpy() if sourced else None
    )
    typed = {
        "security_type": pl.when(_EQUITY & pl.col("fund_structure").is_not_null())
        .then(pl.col("fund_structure"))
        .otherwise(pl.col("security_type"))
    }
    if sec_tickers is None:
        typed["exchange"] = pl.lit(None, dtype=pl.String)
    lines = classified.lazy().with_columns(**typed).drop("fund_structure").collect()
    if sec_tickers is not None:
        lines = _attach_exchange(lines, sec_tickers)
    lines = lines.hstack([company_ids(lines)])
    lines, repairs = _repair_shares(lines)
    lagging = _lags(coded, ids, rank_day, compiled=compiled)
    if lagging.height:
        lines, lagged = _repair_split_lag(lines, lagging)
        repairs = pl.concat([repairs, lagged])
    universe = _in_id_order(lines)
    codes_column = universe.drop_in_place("_line")
    line_codes = codes_column.to_numpy() if sourced else None
    if repairs.height:
        for row in repairs.group_by("repair").len().iter_rows():
            log.info("universe %s: repair %s applied to %d line(s)", rank_day, *row)
    return UniverseBuild(
        rank_day=rank_day,
        universe=schemas.check_schema(universe, schemas.UNIVERSE, source="universe"),
        repairs=repairs,
        line_codes=line_codes,
    )


def _in_id_order(lines: pl.DataFrame) -> pl.DataFrame:
    """The universe's columns of ``lines`` (and ``_line``), by ``security_id``.

    Lines already in that order, each id once (a source's rows of a session
    usually are), keep it: the columns are put together as they are, without
    a sort, which would be a query (and wait for Polars' thread pool while
    another thread's queries hold it). Country, float and voting rights are null.
    """
    names = ("security_id", "company_id", "name", "sector", "security_type", "exchange")
    numbers = ("close", "avg_close_30d", "avg_volume", "addtv", "shares_outstanding")
    symbols = lines.get_column("security_id")
    n = lines.height
    if symbols.null_count() == 0 and symbols.is_sorted() and symbols.n_unique() == n:
        column = lines.get_column
        return pl.DataFrame(
            [
                *(column(c) for c in names),
                schemas.nulls("country", pl.String, n),
                *(column(c) for c in numbers),
                schemas.nulls("float_factor", pl.Float64, n),
                schemas.nulls("voting_rights_pct", pl.Float64, n),
                column("_line"),
            ]
        )
    return (
        lines.lazy()
        .select(
            *names,
            pl.lit(None, dtype=pl.String).alias("country"),
            *numbers,
            pl.lit(None, dtype=pl.Float64).alias("float_factor"),
            pl.lit(None, dtype=pl.Float64).alias("voting_rights_pct"),
            "_line",
        )
        .sort("security_id")
        .collect()
    )


SPLIT_LAG_SESSIONS = 30  # sessions before the rank day searched for a split
_NO_LAGS = pl.DataFrame(
    schema={"security_id": pl.String, "session": pl.Date, "ratio": pl.Float64}
)
SPLIT_MIN_RATIO = 3.0  # price ratio from one close to the next taken as a split


def split_lags(
    history: pl.DataFrame,
    rank_day: date,
    *,
    sessions: int = SPLIT_LAG_SESSIONS,
    min_ratio: float = SPLIT_MIN_RATIO,
) -> pl.DataFrame:
    """Lines whose rank-day share count lags a reverse split, and its ratio.

    Nasdaq's market cap is total shares x price, and its share count can lag a
    reverse split by days: reAlpha (``AIRE``) closed at $0.16 on 2026-04-29 and at
    $3.07 on the rank day after a reverse split, with 134M pre-split shares, so
    the panel's cap jumps from $21M to $412M. A split shows in the prices: from
    one close to the next the price rises by a factor ``r`` of at least
    ``min_ratio`` while the share volume falls (by at least ``sqrt(r)``; a news
    jump trades *more* shares) and the share count does not move (within 2%).
    When the latest such move in the last ``sessions`` sessions up to the rank day
    is followed by no change of the share count up to the rank day, the count
    lags: ``ratio = r`` rounded to a whole number. Forward splits are not
    corrected: a price that falls by a factor while more shares trade looks the
    same as a crash on news. Only data up to the rank day are read.

    Returns
    -------
    pl.DataFrame
        ``security_id, session, ratio`` (rank-day shares are divided by ``ratio``).
    """
    ids, coded = _coded(history)
    return _lags(coded, ids, rank_day, sessions=sessions, min_ratio=min_ratio)


def _lags(
    coded: pl.DataFrame,
    ids: pl.Series,
    rank_day: date,
    *,
    sessions: int = SPLIT_LAG_SESSIONS,
    min_ratio: float = SPLIT_MIN_RATIO,
    compiled: bool = False,
) -> pl.DataFrame:
    """:func:`split_lags` of a :func:`_coded` history.

    Shortcut (:func:`_lags_sorted`) when the rows are in session order with no
    null session or line; otherwise :func:`_lags_plain`. Both give the same frame.
    ``compiled``: the shortcut pairs the rows by a compiled loop (see
    :func:`build_universe`).
    """
    days = coded["session"]
    if days.null_count() == 0 and coded["_line"].null_count() == 0 and days.is_sorted():
        return _lags_sorted(
            coded,
            ids,
            rank_day,
            sessions=sessions,
            min_ratio=min_ratio,
            compiled=compiled,
        )
    return _lags_plain(coded, ids, rank_day, sessions=sessions, min_ratio=min_ratio)


def _split_jumps(pairs: pl.DataFrame, min_ratio: float) -> pl.DataFrame:
    """The rows of ``pairs`` whose move from the row before looks like a split.

    ``pairs`` has ``_line``, ``session``, ``close``, ``volume``,
    ``shares_outstanding`` and ``r``, ``v``, ``s`` (the ratios to the line's row
    before, null where there is none); the order is kept.
    """
    up = pl.col("r").abs().log()
    split = (
        (pl.col("r") >= min_ratio)
        & (pl.col("v").log() <= -0.5 * up)
        & ((pl.col("s") - 1.0).abs() <= _SAME)
    )
    return pairs.filter(split.fill_null(value=False))


def _lagging(jumped: pl.DataFrame, last: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """:func:`split_lags` from the split moves and the rank-day rows.

    ``jumped``: the moves of :func:`_split_jumps`, in line, session order;
    ``last``: ``_line, shares_now`` of the rank day.
    """
    jumps = jumped.group_by("_line").agg(
        session=pl.col("session").last(),
        r=pl.col("r").last(),
        shares_then=pl.col("shares_outstanding").last(),
    )
    lagging = jumps.join(last, on="_line", how="inner").filter(
        ((pl.col("shares_now") / pl.col("shares_then")) - 1.0).abs() <= _SAME
    )
    return lagging.select(
        security_id=ids.gather(lagging["_line"]),
        session="session",
        ratio=pl.col("r").round(0),
    ).sort("security_id")


def _lags_sorted(
    coded: pl.DataFrame,
    ids: pl.Series,
    rank_day: date,
    *,
    sessions: int,
    min_ratio: float,
    compiled: bool = False,
) -> pl.DataFrame:
    """:func:`_lags_plain` of rows in session order, no null session or line.

    Relies on that order: the last ``sessions + 1`` sessions up to the rank day
    are one slice of rows, and a stable sort of its line codes puts each line's
    rows in session order, as :func:`_line_runs` does (``compiled``: a compiled
    loop pairs each row with its line's row before, which is what the sort
    pairs, and the pairs kept are put in the sort's order). Only the moves whose price
    ratio is not below ``min_ratio`` and whose share count moves by at most 2%
    (computed with NumPy: IEEE divisions and subtractions, as Polars'; NaN kept)
    go through the Polars split test of :func:`_lags_plain`, with the
    same operands.
    """
    day = coded["session"].to_numpy().view(np.int64)  # days since 1970, no query
    end = int(np.searchsorted(day, day.dtype.type((rank_day - _EPOCH).days), "right"))
    first, days = end, 0  # walk back to the first row of the window's sessions
    while first > 0 and days < sessions + 1:
        first = int(np.searchsorted(day[:first], day[first - 1], "left"))
        days += 1
    if days < 2:
        return _NO_LAGS.clear()
    rows = coded.slice(first, end - first)
    codes = rows["_line"].to_numpy()
    # NaN (a null or 0/0) is kept: the Polars test decides on it.
    if compiled:
        from r2k.construction import _stats_kernel  # imported here: it loads Numba

        close = rows["close"].to_numpy()
        prev = _stats_kernel.previous_rows(codes)
        now = np.flatnonzero(prev >= 0)
        before = prev[now]
        with np.errstate(divide="ignore", invalid="ignore"):
            kept = ~(close[now] / close[before] < min_ratio)
        now, before = now[kept], before[kept]
        by_line = np.lexsort((now, codes[now]))  # the stable sort's order
        now, before = now[by_line], before[by_line]
    else:
        order = np.argsort(codes, kind="stable")
        grouped = codes[order]
        close = rows["close"].to_numpy()[order]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = close[1:] / close[:-1]
        k = np.flatnonzero((grouped[1:] == grouped[:-1]) & ~(ratio < min_ratio))
        now, before = order[k + 1], order[k]
    if now.size == 0:
        return _NO_LAGS.clear()
    shares = rows["shares_outstanding"]
    with np.errstate(divide="ignore", invalid="ignore"):
        count = np.abs(
            shares.gather(now).to_numpy() / shares.gather(before).to_numpy() - 1.0
        )
    kept = ~(count > _SAME)
    if not kept.any():
        return _NO_LAGS.clear()
    now, before = now[kept], before[kept]
    volume = pl.col("volume").cast(pl.Float64)
    at = rows.select("_line", "session", "close", "volume", "shares_outstanding")
    prior = rows.select("close", "volume", "shares_outstanding")[pl.Series(before)]
    pairs = at[pl.Series(now)].with_columns(
        r=pl.col("close") / prior["close"],
        v=volume / prior["volume"].cast(pl.Float64),
        s=pl.col("shares_outstanding") / prior["shares_outstanding"],
    )
    jumped = _split_jumps(pairs, min_ratio)
    if jumped.height == 0:
        return _NO_LAGS.clear()
    today = rows.filter(pl.col("session") == rank_day)
    today = today[np.argsort(today["_line"].to_numpy(), kind="stable")]
    last = today.select("_line", shares_now="shares_outstanding")
    return _lagging(jumped, last, ids)


def _lags_plain(
    coded: pl.DataFrame,
    ids: pl.Series,
    rank_day: date,
    *,
    sessions: int = SPLIT_LAG_SESSIONS,
    min_ratio: float = SPLIT_MIN_RATIO,
) -> pl.DataFrame:
    """:func:`split_lags` of a :func:`_coded` history, rows in any order."""
    days = coded.filter(pl.col("session") <= rank_day)["session"].unique().sort()
    recent = days.tail(sessions + 1)
    if recent.len() < 2:
        return _NO_LAGS.clear()
    frame = _line_runs(
        coded.filter(
            pl.col("session") >= recent[0],
            pl.col("session") <= recent[-1],
            pl.col("_line").is_not_null(),  # a null id matches no line
        ).select("_line", "session", "close", "volume", "shares_outstanding")
    )
    before = pl.col("_same_line")  # the row before is the line's previous session
    frame = frame.with_columns(
        r=pl.when(before).then(pl.col("close") / pl.col("close").shift(1)),
        v=pl.when(before).then(
            pl.col("volume").cast(pl.Float64)
            / pl.col("volume").cast(pl.Float64).shift(1)
        ),
        s=pl.when(before).then(
            pl.col("shares_outstanding") / pl.col("shares_outstanding").shift(1)
        ),
    )
    jumped = _split_jumps(frame, min_ratio)
    if jumped.height == 0:
        return _NO_LAGS.clear()
    last = frame.filter(pl.col("session") == rank_day).select(
        "_line", shares_now="shares_outstanding"
    )
    return _lagging(jumped, last, ids)


def _through(panel: pl.DataFrame, rank_day: date) -> pl.DataFrame:
    """The rows of ``panel`` dated on or before ``rank_day`` (no copy if all are)."""
    dates = panel["session"]
    if dates.null_count() == 0 and not (dates > rank_day).any():
        return panel
    return panel.filter(pl.col("session") <= rank_day)


def _coded(
    history: pl.DataFrame, codes: LineCodes | None = None
) -> tuple[pl.Series, pl.DataFrame]:
    """The lines of ``history``, and its rows with ``_line``, each row's line.

    ``_line`` is the position of the row's ``security_id`` among the lines (null
    for a null id), so the per-line work groups and sorts small integers, not
    strings. The rows keep their order. ``codes``, when given, are the rows'
    line codes from the source.
    """
    if codes is not None:
        line = pl.Series("_line", codes.codes)
        if "_line" in history.columns:
            return codes.lines, history.with_columns(line)
        return codes.lines, history.hstack([line])  # no query
    symbols = history["security_id"]
    ids = symbols.drop_nulls().unique()
    line = symbols.cast(pl.Enum(ids)).to_physical().alias("_line")
    return ids, history.with_columns(line)


def _line_runs(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` (with ``_line``, no null) grouped by line, in session order.

    Adds ``_same_line``: whether the row before is of the same line. The lines
    come in no particular order. A stable sort of small integer codes: much
    cheaper than sorting by the ``security_id`` string and the session.
    """
    if not rows["session"].is_sorted():
        rows = rows.sort("session")
    codes = rows["_line"].to_numpy()
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    same = np.empty(grouped.size, dtype=bool)
    same[:1] = False
    np.equal(grouped[1:], grouped[:-1], out=same[1:])
    return rows[order].with_columns(_same_line=pl.Series(same))


def _repair_split_lag(
    lines: pl.DataFrame, lags: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    hit = lines.join(lags, on="security_id", how="inner").filter(
        pl.col("shares_outstanding").is_not_null()
    )
    repairs = hit.select(
        "security_id",
        repair=pl.lit("split_lag"),
        detail=pl.format(
            "price x{} on {} with the share count unchanged: shares / {}",
            pl.col("ratio").round(1),
            pl.col("session"),
            pl.col("ratio").round(1),
        ),
    )
    out = (
        lines.join(lags.select("security_id", "ratio"), on="security_id", how="left")
        .with_columns(
            shares_outstanding=pl.col("shares_outstanding")
            / pl.col("ratio").fill_null(1.0)
        )
        .drop("ratio")
    )
    return out, schemas.check_schema(repairs, REPAIRS, source="repairs")


def _history_stats(
    coded: pl.DataFrame, rank_day: date, *, compiled: bool = False
) -> pl.DataFrame:
    """Per-line statistics of a :func:`_coded` history, keyed by ``_line``.

    ``compiled``: by the compiled loop (:func:`_history_stats_compiled`) where
    it gives Polars' values, by the group-by otherwise.
    """
    if compiled:
        stats = _history_stats_compiled(coded, rank_day)
        if stats is not None:
            return stats
    window_start = rank_day - timedelta(days=30)
    in_window = (pl.col("session") >= window_start) & (pl.col("session") < rank_day)
    if not coded["session"].is_sorted():
        coded = coded.sort("session")
    return coded.group_by("_line").agg(
        avg_close_30d=pl.col("close").filter(in_window).mean(),
        avg_volume=pl.col("volume").cast(pl.Float64).mean(),
        addtv=(pl.col("volume") * pl.col("close")).mean(),
        last_shares=pl.col("shares_outstanding").drop_nulls().last(),
    )


def _history_stats_compiled(coded: pl.DataFrame, rank_day: date) -> pl.DataFrame | None:
    """:func:`_history_stats` by one compiled pass over the rows, or None.

    The loop (:mod:`r2k.construction._stats_kernel`) sums each line's values in
    row order as Polars' group-by does, so its means are Polars' own; it applies
    to rows in session order without a null session or line, whose float
    columns' NaN are all nulls, and whose lines have at most
    :data:`~r2k.construction._stats_kernel.KAHAN_ROWS` rows (None otherwise).
    """
    from r2k.construction import _stats_kernel  # imported here: it loads Numba

    days, lines = coded.get_column("session"), coded.get_column("_line")
    if days.null_count() or lines.null_count() or not days.is_sorted():
        return None
    # A null reads as NaN; history_sums takes the arrays' types as they come.
    columns = {
        name: coded.get_column(name).to_numpy()
        for name in ("close", "volume", "shares_outstanding")
    }
    # The rows are in session order: the 30-day window is one range of them.
    bounds = np.array([rank_day - timedelta(days=30), rank_day], dtype="datetime64[D]")
    lo, hi = np.searchsorted(days.to_numpy(), bounds)
    window = np.zeros(coded.height, dtype=np.bool_)
    window[lo:hi] = True
    codes = lines.to_numpy()
    size = int(codes.max()) + 1 if codes.size else 0
    rows, sums, counts, last, nans = _stats_kernel.history_sums(
        codes,
        window,
        columns["close"],
        columns["volume"],
        columns["shares_outstanding"],
        size,
    )
    for name, n_nan in zip(columns, nans.tolist(), strict=True):
        column = coded.get_column(name)
        if column.dtype.is_float() and n_nan != column.null_count():
            return None  # a NaN that is not a null
    if rows.max(initial=0) > _stats_kernel.KAHAN_ROWS:
        return None
    present = np.flatnonzero(rows)
    sums, counts = sums[:, present], counts[:, present]
    means = np.divide(sums, counts, out=np.full(sums.shape, np.nan), where=counts > 0)
    stats = {"_line": pl.Series("_line", present).cast(lines.dtype)}
    for k, name in enumerate(("avg_close_30d", "avg_volume", "addtv")):
        mean = pl.Series(name, means[k])
        none = np.flatnonzero(counts[k] == 0)
        stats[name] = mean.scatter(none, None) if none.size else mean
    stats["last_shares"] = pl.Series("last_shares", last[present], nan_to_null=True)
    return pl.DataFrame(stats)


def _with_stats(cross: pl.DataFrame, stats: pl.DataFrame) -> pl.DataFrame:
    """``cross`` left-joined with ``stats`` on ``_line`` (row order kept).

    Shortcut: when no code is null, no other column name is shared and every
    line of ``cross`` has statistics (those of a history that holds ``cross``),
    the statistics rows are gathered by code and put beside ``cross``;
    otherwise the join.
    """
    line, keys = cross["_line"], stats["_line"]
    plain = set(cross.columns) & set(stats.columns) != {"_line"}  # names clash
    if not plain and cross.height and line.null_count() + keys.null_count() == 0:
        codes = keys.to_numpy()
        wanted = line.to_numpy()
        size = int(max(codes.max(initial=0), wanted.max())) + 1
        position = np.full(size, -1, dtype=np.int64)
        position[codes] = np.arange(codes.size)
        at = position[wanted]
        if (at >= 0).all():  # gathers of the columns, not a query
            return cross.hstack(
                [s[at] for s in stats.get_columns() if s.name != "_line"]
            )
    return cross.join(stats, on="_line", how="left", maintain_order="left")


def _rows_on(coded: pl.DataFrame, day: date) -> pl.DataFrame:
    """The rows of ``coded`` dated ``day``, in their order.

    Shortcut: rows in session order with no null session are one slice, found
    by binary search; otherwise a filter.
    """
    dates = coded["session"]
    if dates.null_count() == 0 and dates.is_sorted():
        days = dates.to_numpy().view(np.int64)  # days since 1970, no query
        at = (day - _EPOCH).days  # the rows from ``at`` up to ``at + 1``
        lo, hi = np.searchsorted(days, np.array([at, at + 1], dtype=days.dtype))
        return coded.slice(int(lo), int(hi - lo))
    return coded.filter(pl.col("session") == day)


def _attach_exchange(lines: pl.DataFrame, sec: pl.DataFrame | None) -> pl.DataFrame:
    if sec is None:
        return lines.with_columns(exchange=pl.lit(None, dtype=pl.String))
    venues = (
        sec.filter(pl.col("exchange").is_not_null())
        .sort("cik", "ticker")
        .unique("security_id", keep="first")
        .select("security_id", exchange=pl.col("exchange").str.to_uppercase())
    )
    return lines.join(venues, on="security_id", how="left")


def _root(security_id: str) -> str:
    return security_id.split(".", 1)[0]


def company_ids(lines: pl.DataFrame) -> pl.Series:
    """Company id per line: same ``company_key`` *and* a shared ticker root.

    Lines are grouped when their name keys match and their tickers (class suffix
    removed) share a prefix of at least two characters (one for one-letter
    tickers): ``GOOG``/``GOOGL``, ``Z``/``ZG``, ``MOG.A``/``MOG.B``. The id is the
    smallest ticker of the group.

    A key's lines whose tickers all start with the same two characters, neither
    a dot, are one group (each shares that prefix with the smallest): their id
    is the group's smallest ticker. The other keys' lines are clustered one by
    one.
    """
    symbols = lines.get_column("security_id")
    coded = symbols.null_count() == 0 and lines.height > 0
    first, one = (_groups_by_codes if coded else _groups_by_window)(lines)
    # A line alone with its key is a company of its own: only the others are
    # clustered.
    shared = np.flatnonzero(~one)
    if shared.size == 0:
        return first
    ids = symbols[shared].to_list()
    keys = lines.get_column("company_key")[shared].to_list()
    groups: dict[str, list[tuple[str, int]]] = {}
    for j, (sid, k) in enumerate(zip(ids, keys, strict=True)):
        groups.setdefault(k or sid, []).append((sid, j))
    out = list(ids)
    for members in groups.values():
        members.sort()  # by ticker, then row
        clusters: list[tuple[str, str]] = []  # (first ticker, its root)
        for sid, j in members:
            root = _root(sid)
            for first_id, other in clusters:
                n = min(2, len(root), len(other))
                if root[:n] == other[:n]:  # a common prefix of n characters
                    out[j] = first_id
                    break
            else:
                clusters.append((sid, root))
    values = pl.Series("company_id", out, dtype=pl.String)
    return first.scatter(shared, values)


def _groups() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The name-key group, the two-character ticker prefix, and whether it is whole."""
    key = pl.col("company_key")
    group = pl.when(key.is_null() | (key == "")).then("security_id").otherwise(key)
    prefix = pl.col("security_id").str.slice(0, 2)
    whole = (pl.col("security_id").str.len_chars() >= 2) & ~prefix.str.contains(
        ".", literal=True
    )
    return group, prefix, whole


def _groups_by_codes(lines: pl.DataFrame) -> tuple[pl.Series, np.ndarray]:
    """Each line's group's smallest ticker, and whether the group is one company.

    A group is one company when it has one line, or when its tickers are whole
    and share one prefix. Groups, prefixes and ticker order are numbered in one
    query (no null ticker); the rest is over those numbers.
    """
    group, prefix, whole = _groups()
    coded = lines.select(
        group=group.rank("dense"),
        prefix=prefix.rank("dense"),
        order=pl.col("security_id").rank("ordinal"),
        whole=whole,
    )
    g = coded.get_column("group").to_numpy().astype(np.int64) - 1
    n, n_groups = g.size, int(g.max()) + 1
    p = coded.get_column("prefix").to_numpy().astype(np.int64)
    low, high = np.full(n_groups, p.max()), np.zeros(n_groups, dtype=np.int64)
    np.minimum.at(low, g, p)
    np.maximum.at(high, g, p)
    broken = np.bincount(
        g, weights=~coded.get_column("whole").to_numpy(), minlength=n_groups
    )
    one = (np.bincount(g, minlength=n_groups) == 1) | ((broken == 0) & (low == high))
    order = coded.get_column("order").to_numpy().astype(np.int64) - 1
    first_order = np.full(n_groups, n, dtype=np.int64)
    np.minimum.at(first_order, g, order)
    row_of_order = np.empty(n, dtype=np.int64)
    row_of_order[order] = np.arange(n)
    symbols = lines.get_column("security_id")
    return symbols[row_of_order[first_order[g]]].alias("company_id"), one[g]


def _groups_by_window(lines: pl.DataFrame) -> tuple[pl.Series, np.ndarray]:
    """:func:`_groups_by_codes` by window queries (lines with a null ticker)."""
    group, prefix, whole = _groups()
    symbol = pl.col("security_id")
    flags = lines.select(
        first=symbol.min().over(group),
        one=(pl.len().over(group) == 1)
        | (whole.all().over(group) & (prefix.n_unique().over(group) == 1)),
    )
    first = flags.get_column("first").alias("company_id")
    return first, flags.get_column("one").to_numpy()


def _repair_shares(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fill missing rank-day counts from ``last_shares``; keep a company total once.

    Returns the repaired lines and the ``shares_carried_forward`` and
    ``company_level_shares`` repairs, in that order. A step with nothing to
    repair leaves the frame as it is (its result would be the same values).
    """
    carried_expr = (
        pl.col("shares_outstanding").is_null() & pl.col("last_shares").is_not_null()
    )
    # Only a company with two equity lines or more that have a share count (after
    # carrying forward) can carry its total on several; the company tests run on
    # those companies' lines alone (whole companies): elsewhere none is dropped.
    counted = _EQUITY & pl.coalesce("shares_outstanding", "last_shares").is_not_null()
    flags = lines.select(
        _carried=carried_expr,
        _counted=counted.fill_null(value=False),
        _company=_COMPANY,
    )
    carried = flags["_carried"].to_numpy()
    if carried.any():
        lines = lines.with_columns(
            shares_outstanding=pl.coalesce("shares_outstanding", "last_shares")
        )
    company = flags["_company"].to_numpy().astype(np.int64)
    counts = np.bincount(company, weights=flags["_counted"].to_numpy())
    several = np.flatnonzero(counts[company] >= 2)
    dropped = np.zeros(lines.height, dtype=bool)
    if several.size:
        dropped[several] = _company_level_dropped(lines[several])
    if not (carried.any() or dropped.any()):
        return lines, _NO_REPAIRS.clear()
    lines = lines.with_columns(_carried=pl.Series(carried), _dropped=pl.Series(dropped))
    repairs = pl.concat(
        [
            lines.filter(pl.col("_carried")).select(
                "security_id",
                repair=pl.lit("shares_carried_forward"),
                detail=pl.format(
                    "no rank-day cap; shares {} from an earlier session",
                    pl.col("shares_outstanding").round(0),
                ),
            ),
            lines.filter(pl.col("_dropped")).select(
                "security_id",
                repair=pl.lit("company_level_shares"),
                detail=pl.format(
                    "company total kept once on another class of {}",
                    pl.col("company_id"),
                ),
            ),
        ]
    )
    lines = lines.with_columns(
        shares_outstanding=pl.when(pl.col("_dropped"))
        .then(None)
        .otherwise(pl.col("shares_outstanding"))
    ).drop("_carried", "_dropped")
    return lines, schemas.check_schema(repairs, REPAIRS, source="repairs")


def _company_level_dropped(lines: pl.DataFrame) -> np.ndarray:
    """Lines whose share count is their company's total, kept on another line.

    When the lines of a company carry the same share count or the same cap
    (within 2%), the most traded line keeps the count and the others drop it.
    Over company numbers; as the window queries would, a max or min skips the
    unknown values and a NaN unless all are NaN, and a NaN volume ranks first.
    """
    cols = lines.select(
        company=_COMPANY,
        known=(_EQUITY & pl.col("shares_outstanding").is_not_null()).fill_null(
            value=False
        ),
        shares=pl.col("shares_outstanding"),
        cap=pl.col("shares_outstanding") * pl.col("close"),
        volume=pl.col("avg_volume").fill_null(0.0),
        ticker=pl.col("security_id").rank("dense").fill_null(0),
    )
    company = cols.get_column("company").to_numpy().astype(np.int64)
    known = cols.get_column("known").to_numpy()
    n_companies = int(company.max()) + 1
    at = company[known]
    n_known = np.bincount(at, minlength=n_companies)[company]

    def spread(column: str) -> np.ndarray:
        values = cols.get_column(column).to_numpy().astype(np.float64)[known]
        high, low = np.full(n_companies, np.nan), np.full(n_companies, np.nan)
        np.fmax.at(high, at, values)
        np.fmin.at(low, at, values)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = (high / low)[company] - 1.0
        return out

    with np.errstate(invalid="ignore"):
        level = (
            known
            & (n_known >= 2)
            & ((spread("shares") <= _SAME) | (spread("cap") <= _SAME))
        )
    # The most traded line keeps the company count (ties: the smallest id).
    rows = np.flatnonzero(level)
    volume = cols.get_column("volume").to_numpy().astype(np.float64)[rows]
    ticker = cols.get_column("ticker").to_numpy().astype(np.int64)
    nan = np.isnan(volume)
    ordered = rows[
        np.lexsort((ticker[rows], np.where(nan, 0.0, -volume), ~nan, company[rows]))
    ]
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = company[ordered[1:]] != company[ordered[:-1]]
    keeper = np.full(n_companies, -1, dtype=np.int64)
    keeper[company[ordered[first]]] = ticker[ordered[first]]
    out: np.ndarray = level & (ticker != keeper[company])
    return out
