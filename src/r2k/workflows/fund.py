"""``r2k fund simulate``: an index fund run against r2k's own index (docs/funds.md).

This module joins the data with the pure simulation (:mod:`r2k.funds.simulation`):

* the index, session by session, is r2k's own calculation with its constituent
  file: on real data :func:`r2k.workflows.real_index.calculate_real` (``weights
  "r2k"``; any index of the family), on the synthetic market
  :func:`r2k.workflows.synthetic_run.run_synthetic` (its market starts a year
  before the fund so the risk model has history);
* :func:`index_path` lays the constituent rows out for the simulation and adds,
  from the market rows, each line's sector (the first one it lists with), its
  ADV at every close (the median share volume of the ``adv_window`` sessions
  before it) and, for the optimised method, daily returns: the index's own
  ``(P + d) / P_ref - 1`` while a line is a member (splits and other actions
  handled), the raw close-to-close change clipped to [-50%, +100%] before;
* a sampling or optimised fund is run beside full replication with the same
  settings, and its tracking error against it is reported;
* on real data, the full-replication holdings on the dates of the IWM holdings
  files in the window are compared with those files (:func:`iwm_proof`, for the
  Russell 2000);
* :func:`write_fund` writes ``nav.csv``, ``summary.json`` and
  ``holdings/<FUND>_<YYYY-MM-DD>.csv`` (iShares layout), each atomically.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from r2k._typing import INDEX_LABELS
from r2k.data.files import check_output_path, write_bytes_atomic, write_frame
from r2k.data.fund_files import holdings_csv, holdings_file_name
from r2k.errors import MissingDataError, SourceFormatError
from r2k.funds.simulation import (
    PERIODS_PER_YEAR,
    FundResult,
    FundSettings,
    IndexPath,
    simulate,
    tracking_summary,
)

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from r2k._typing import IndexCode
    from r2k.data.datadir import DataDir

__all__ = [
    "FUND_TICKER",
    "FundInputs",
    "FundRun",
    "check_fund_output",
    "index_path",
    "iwm_proof",
    "load_real",
    "load_synthetic",
    "run_fund",
    "write_fund",
]

FUND_TICKER: Final = "SIMF"
"""The simulated fund's ticker in its holdings files' names."""

SYNTHETIC_HISTORY_DAYS: Final = 400
"""Calendar days of synthetic market before the fund's start (about 275
sessions: the index's base and a year of risk-model history)."""

RETURN_CLIP: Final = (-0.5, 1.0)
"""Bounds of a raw close-to-close return (a line's history before it joins)."""

MATCH_WEIGHT: Final = 1e-4
"""Two weights of a line "differ" in the IWM proof beyond one basis point."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FundInputs:
    """The index path and what the outputs need about its lines."""

    path: IndexPath
    index: IndexCode
    source: str  # "real" or "synthetic"
    names: dict[str, str]
    iwm_files: tuple[tuple[date, Path], ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FundRun:
    """A simulated fund, full replication beside it, and its summary."""

    inputs: FundInputs
    result: FundResult
    full: FundResult
    summary: dict[str, Any]


def check_fund_output(out: Path) -> None:
    """Check before any work that the folder ``out`` can take the outputs.

    Raises
    ------
    r2k.data.files.OutputFileError
        If ``out`` is a file, lies under a file, or cannot be written.
    """
    check_output_path(out / "nav.csv", ("csv",), parents=True)
    check_output_path(out / "holdings" / "x.csv", ("csv",), parents=True)


def index_path(
    constituents: pl.DataFrame,
    levels: pl.DataFrame,
    market: pl.DataFrame,
    start: date,
    end: date,
    *,
    adv_window: int,
    risk_window: int | None = None,
) -> tuple[IndexPath, dict[str, str]]:
    """The index from ``start`` (the fund's launch close) to ``end``, laid out.

    Parameters
    ----------
    constituents
        :data:`r2k.schemas.CONSTITUENTS` of the calculation.
    levels
        :data:`r2k.schemas.LEVELS` of the calculation.
    market
        :data:`r2k.schemas.MARKET` rows (sectors, names, volumes, closes).
    start, end
        The fund's window; both sessions of ``levels``.
    adv_window
        Sessions in the median daily volume.
    risk_window
        Sessions of returns before ``start`` to keep (None: no returns).

    Returns
    -------
    path, names
        The path and each line's name (the last on or before ``end``).

    Raises
    ------
    MissingDataError
        If ``start`` or ``end`` is not a session of the calculation, or the
        window has no session after ``start``.
    """
    sessions = levels.filter(pl.col("session").is_between(start, end))
    days = sessions["session"].to_list()
    if not days or days[0] != start:
        msg = f"--start {start} is not a session of the index calculation"
        raise MissingDataError(msg)
    if days[-1] != end:
        msg = f"--end {end} is not a session of the index calculation"
        raise MissingDataError(msg)
    if len(days) < 2:
        msg = f"the window {start} .. {end} has no session after the start"
        raise MissingDataError(msg)
    position = pl.DataFrame(
        {"session": days, "_t": np.arange(len(days), dtype=np.int64)},
        schema={"session": pl.Date, "_t": pl.Int64},
    )
    held = constituents.filter(
        (pl.col("session") > start)
        & (pl.col("session") <= end)
        & (pl.col("index_shares") > 0)
    ).join(position, on="session", how="inner")
    pro_forma = constituents.filter(
        (pl.col("session") == end) & (pl.col("closing_index_shares") > 0)
    ).select(
        "security_id",
        index_shares="closing_index_shares",
        reference_price="close",
        close=pl.lit(None, dtype=pl.Float64),
        dividend=pl.lit(0.0),
        _t=pl.lit(len(days), dtype=pl.Int64),
    )
    rows = pl.concat(
        [
            held.select(
                "security_id",
                "index_shares",
                "reference_price",
                "close",
                pl.col("dividend").fill_null(0.0),
                "_t",
            ),
            pro_forma,
        ]
    )
    ids = rows["security_id"].unique().sort()
    enum = pl.Enum(ids)
    rows = rows.with_columns(_c=_codes(enum))
    key = rows["_t"].to_numpy() * ids.len() + rows["_c"].to_numpy()
    if (np.diff(key) < 0).any():  # the calculation writes them in this order
        rows = rows.sort("_t", "_c")
    counts = np.bincount(rows["_t"].to_numpy(), minlength=len(days) + 1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    lines = (
        market.filter(pl.col("session") <= end)
        .filter(pl.col("security_id").is_in(ids.implode()))
        .select("security_id", "session", "name", "sector", "close", "volume")
        .with_columns(_c=_codes(enum))
    )
    if not lines["session"].is_sorted():  # each line's rows in session order
        lines = lines.sort("session", maintain_order=True)
    first_sector = lines.group_by("_c").agg(pl.col("sector").drop_nulls().first())
    sector_names = tuple(sorted({*first_sector["sector"].drop_nulls(), "Unknown"}))
    lookup = {name: i for i, name in enumerate(sector_names)}
    sector = np.full(ids.len(), lookup["Unknown"], dtype=np.int64)
    for c, name in first_sector.iter_rows():
        if name is not None:
            sector[c] = lookup[name]
    last_name = lines.group_by("_c").agg(pl.col("name").drop_nulls().last())
    names = {ids[c]: n for c, n in last_name.iter_rows() if n is not None}
    market_days = lines["session"].unique().sort()
    before = market_days.filter(market_days < start)
    lead = min(len(before), risk_window) if risk_window is not None else 0
    history = before.tail(max(adv_window, lead)).to_list()
    window = [*history, *days]
    lines = lines.filter(pl.col("session") >= window[0]).with_columns(_r=_rows(window))
    adv = _dense(
        lines.with_columns(
            adv=pl.col("volume")
            .cast(pl.Float64)
            .rolling_median(window_size=adv_window, min_samples=1)
            .shift(1)
            .over("_c")
        ),
        len(window),
        ids.len(),
        "adv",
    )[len(history) :]
    returns = None
    if risk_window is not None:
        returns = _returns(lines, held.with_columns(_c=_codes(enum)), window, ids.len())
        returns = returns[len(history) - lead :]
    tr = sessions["total_return"].to_numpy()
    path = IndexPath(
        sessions=tuple(days),
        ids=tuple(ids.to_list()),
        offsets=offsets,
        line=rows["_c"].to_numpy(),
        index_shares=rows["index_shares"].to_numpy(),
        reference_price=rows["reference_price"].to_numpy(),
        close=rows["close"].fill_null(np.nan).to_numpy(),
        dividend=rows["dividend"].to_numpy(),
        index_total_return=tr,
        sector=sector,
        adv=adv,
        returns=returns,
        returns_lead=lead,
        sector_names=sector_names,
    )
    return path, {k: v for k, v in names.items() if v is not None}


def _codes(enum: pl.Enum) -> pl.Expr:
    """Each ``security_id``'s position in the path's sorted ids."""
    return pl.col("security_id").cast(enum).to_physical().cast(pl.Int64)


def _rows(window: list[date]) -> pl.Expr:
    """Each ``session``'s position in ``window`` (sorted sessions)."""
    days = pl.Series(window, dtype=pl.Date).to_physical()
    return (
        pl.col("session")
        .to_physical()
        .replace_strict(
            days, np.arange(len(window)), default=None, return_dtype=pl.Int64
        )
    )


def _dense(frame: pl.DataFrame, n_rows: int, n_lines: int, column: str) -> np.ndarray:
    """``column`` of ``frame`` (``_r``, ``_c``) as rows x lines, NaN missing."""
    out = np.full((n_rows, n_lines), np.nan, dtype=np.float32)
    frame = frame.filter(pl.col("_r").is_not_null())
    values = frame[column].cast(pl.Float64).fill_null(np.nan).to_numpy()
    out[frame["_r"].to_numpy(), frame["_c"].to_numpy()] = values
    return out


def _returns(
    lines: pl.DataFrame, held: pl.DataFrame, window: list[date], n_lines: int
) -> np.ndarray:
    """Daily returns, sessions ``window`` x lines (see the module's docstring)."""
    raw = lines.with_columns(
        ret=(pl.col("close") / pl.col("close").shift(1) - 1.0)
        .over("_c")
        .clip(*RETURN_CLIP)
    )
    out = _dense(raw, len(window), n_lines, "ret")
    index = held.select(
        "_c",
        _r=_rows(window),
        ret=(pl.col("close") + pl.col("dividend").fill_null(0.0))
        / pl.col("reference_price")
        - 1.0,
    )
    member = _dense(index, len(window), n_lines, "ret")
    merged: np.ndarray = np.where(np.isnan(member), out, member)
    return merged


def load_real(
    data: DataDir,
    index: IndexCode,
    start: date,
    end: date,
    settings: FundSettings,
) -> FundInputs:
    """The index on the real data of ``data`` (r2k weights) for the fund."""
    from r2k.data.sources.panel import read_market_panel
    from r2k.workflows.real_index import calculate_real

    run = calculate_real(
        data, start, end, weights="r2k", constituents=True, index=index
    )
    market = read_market_panel(data.market_panel)
    path, names = index_path(
        run.calculation.constituents,
        run.calculation.levels,
        market,
        start,
        end,
        adv_window=settings.costs.adv_window,
        risk_window=settings.risk_window if settings.method == "optimized" else None,
    )
    known = set(path.sessions)
    iwm = tuple((d, p) for d, p in data.dated_holdings("IWM") if d in known)
    notes = [
        *run.notes,
        "the market panel has no dividends: the index's total return is its price "
        "return here, and the fund receives none",
    ]
    if run.reconstitutions:
        notes.append(f"reconstitutions applied: {', '.join(run.reconstitutions)}")
    return FundInputs(
        path=path,
        index=index,
        source="real",
        names=names,
        iwm_files=iwm,
        notes=tuple(notes),
    )


def load_synthetic(
    companies: int,
    seed: int,
    index: IndexCode,
    start: date,
    end: date,
    settings: FundSettings,
) -> FundInputs:
    """The index on the seeded synthetic market for the fund.

    The market starts :data:`SYNTHETIC_HISTORY_DAYS` before ``start``; the
    index's base (100) is its first session.
    """
    from r2k.workflows.synthetic_run import run_synthetic

    first = start - timedelta(days=SYNTHETIC_HISTORY_DAYS)
    run = run_synthetic(
        companies, start=first, end=end, seed=seed, constituents=True, index=index
    )
    path, names = index_path(
        run.calculation.constituents,
        run.calculation.levels,
        run.market.market,
        start,
        end,
        adv_window=settings.costs.adv_window,
        risk_window=settings.risk_window if settings.method == "optimized" else None,
    )
    return FundInputs(
        path=path,
        index=index,
        source="synthetic",
        names=names,
        iwm_files=(),
        notes=(
            f"synthetic market: {companies:,} companies, seed {seed}, from {first}; "
            f"the index's base is {run.calculation.levels['session'][0]}",
        ),
    )


def flows_for(
    frame: pl.DataFrame, sessions: tuple[date, ...], source: str
) -> np.ndarray:
    """The flows of ``frame`` (``date``, ``flow_usd``) on the window's sessions.

    Raises
    ------
    SourceFormatError
        If a date is not a session of the window.
    """
    at = {d: i for i, d in enumerate(sessions)}
    out = np.zeros(len(sessions))
    for day, flow in frame.select("date", "flow_usd").iter_rows():
        if day not in at:
            msg = (
                f"{source}: flow dated {day} is not a session of the window "
                f"{sessions[0]} .. {sessions[-1]}; date each flow by the session "
                "whose close it arrives at"
            )
            raise SourceFormatError(msg)
        out[at[day]] += float(flow)
    return out


def _against(fund: FundResult, base: FundResult) -> dict[str, float]:
    """Tracking error and difference of ``fund`` against ``base`` (both NAVs)."""
    a = fund.nav["fund_return"].to_numpy()[1:] - base.nav["fund_return"].to_numpy()[1:]
    te = (
        float(np.std(a, ddof=1) * math.sqrt(PERIODS_PER_YEAR))
        if len(a) > 1
        else math.nan
    )
    fn, bn = fund.nav["nav"].to_numpy(), base.nav["nav"].to_numpy()
    return {
        "tracking_error": te,
        "tracking_difference": float(fn[-1] / fn[0] - bn[-1] / bn[0]),
        "periods_per_year": PERIODS_PER_YEAR,
        "ddof": 1,
    }


def iwm_proof(
    inputs: FundInputs, full: FundResult, holdings: dict[date, Any]
) -> list[dict[str, Any]]:
    """Full-replication holdings against the real IWM files on their dates.

    Weights are each side's equity lines over its equity total (cash out):
    the fund's ``shares x close``, IWM's ``Market Value``. IWM tickers are
    matched to r2k's lines as the real calculation matches them
    (:func:`r2k.tickers.resolve_ticker`). Active share is ``0.5 sum |w_fund -
    w_iwm|`` over the union of lines; ``active_share_common_lines`` the same over
    the lines both hold, each side's weights re-scaled to sum to 1 on them (the
    part due to weighting, not to membership).
    """
    out = []
    snap = {h.session: h for h in full.holdings}
    for day, path in inputs.iwm_files:
        if day not in snap or day not in holdings:
            continue
        iwm = holdings[day]
        fund = snap[day]
        mv = fund.market_value
        f = pl.DataFrame({"security_id": list(fund.ids), "w_fund": mv / mv.sum()})
        i = iwm.with_columns(
            w_iwm=pl.col("market_value") / pl.col("market_value").sum()
        )
        both = (  # sorted: the sums below add in one order, so they are reproducible
            f.join(i, on="security_id", how="full", coalesce=True)
            .fill_null(0.0)
            .sort("security_id")
        )
        diff = (both["w_fund"] - both["w_iwm"]).abs()
        in_fund, in_iwm = both["w_fund"] > 0, both["w_iwm"] > 0
        common = in_fund & in_iwm
        out.append(
            {
                "date": day.isoformat(),
                "file": path.name,
                "active_share": 0.5 * float(diff.sum()),
                "active_share_common_lines": _common_active_share(both, common),
                "lines_fund": int(in_fund.sum()),
                "lines_iwm": int(in_iwm.sum()),
                "lines_common": int(common.sum()),
                "lines_only_fund": int((in_fund & ~in_iwm).sum()),
                "lines_only_iwm": int((in_iwm & ~in_fund).sum()),
                "lines_differ": int((in_fund ^ in_iwm).sum()),
                "common_weight_differs_1bp": int(
                    (common & (diff > MATCH_WEIGHT)).sum()
                ),
                "iwm_weight_not_held": float(both.filter(~in_fund)["w_iwm"].sum()),
                "fund_weight_not_in_iwm": float(both.filter(~in_iwm)["w_fund"].sum()),
            }
        )
    return out


def _common_active_share(both: pl.DataFrame, common: pl.Series) -> float:
    """Active share over the lines both hold, each side re-weighted to 1 on them."""
    shared = both.filter(common)
    f, i = shared["w_fund"], shared["w_iwm"]
    return 0.5 * float((f / f.sum() - i / i.sum()).abs().sum())


def _iwm_weights(inputs: FundInputs, market_ids: set[str]) -> dict[date, pl.DataFrame]:
    from r2k.data.sources.ishares import read_holdings
    from r2k.tickers import resolve_ticker

    out = {}
    for day, path in inputs.iwm_files:
        eq = read_holdings(path).equities
        eq = eq.with_columns(
            security_id=pl.col("security_id").map_elements(
                lambda t: resolve_ticker(t, market_ids), return_dtype=pl.String
            )
        )
        out[day] = (  # sorted: group_by's order varies, and so would sums over it
            eq.group_by("security_id")
            .agg(pl.col("market_value").sum())
            .sort("security_id")
        )
    return out


def run_fund(
    inputs: FundInputs,
    settings: FundSettings,
    *,
    flows: np.ndarray | None = None,
) -> FundRun:
    """Simulate the fund and full replication beside it; summarise both."""
    from dataclasses import replace

    keep = tuple(d for d, _ in inputs.iwm_files)
    settings = replace(settings, holdings_sessions=keep)
    result = simulate(inputs.path, settings, flows=flows)
    full = (
        result
        if settings.method == "full"
        else simulate(inputs.path, replace(settings, method="full"), flows=flows)
    )
    summary: dict[str, Any] = {
        "index": inputs.index,
        "index_name": INDEX_LABELS[inputs.index],
        "source": inputs.source,
        "method": settings.method,
        "names": settings.names if settings.method != "full" else None,
        "start": inputs.path.sessions[0].isoformat(),
        "end": inputs.path.sessions[-1].isoformat(),
        "lines_held_end": int(result.nav["lines_held"][-1]),
        "index_lines_end": int(inputs.path.offsets[-1] - inputs.path.offsets[-2]),
        "conventions": {
            "trading": "at the close, to the index's next-session opening weights",
            "total_return": "gross dividends reinvested at the ex-date close",
            "tracking_error": "std(daily active return, ddof=1) x sqrt(252)",
            "turnover": "min(purchases, sales) after launch / mean net assets, "
            "per year",
        },
        "settings": _settings_json(settings),
        "tracking": tracking_summary(result.nav),
        "selections": [
            {"session": d.isoformat(), "risk_model": k or None}
            for d, k in result.selections
        ],
        "notes": list(inputs.notes),
    }
    if settings.method != "full":
        summary["against_full_replication"] = _against(result, full)
        summary["full_replication"] = tracking_summary(full.nav)
    if inputs.source == "real" and inputs.index == "r2000" and inputs.iwm_files:
        market_ids = set(inputs.path.ids)
        summary["proof"] = {
            "what": "full-replication holdings after the close against the IWM "
            "holdings file of the same date (equity lines, weights over each "
            "side's equity total)",
            "files": iwm_proof(inputs, full, _iwm_weights(inputs, market_ids)),
        }
    return FundRun(inputs=inputs, result=result, full=full, summary=_clean(summary))


def _settings_json(settings: FundSettings) -> dict[str, Any]:
    raw = asdict(settings)
    raw.pop("holdings_sessions")
    out: dict[str, Any] = json.loads(json.dumps(raw, default=str))
    return out


def write_fund(run: FundRun, out: Path) -> list[Path]:
    """Write the run's files under ``out`` (atomically, one by one)."""
    written = [write_frame(run.result.nav, out / "nav.csv", parents=True)]
    path = run.inputs.path
    sector = {
        path.ids[i]: path.sector_names[path.sector[i]] for i in range(len(path.ids))
    }
    label = INDEX_LABELS[run.inputs.index]
    title = f"r2k simulated fund: {label}, {run.result.settings.method}"
    files = []
    for snap in run.result.holdings:
        lines = pl.DataFrame(
            {
                "ticker": list(snap.ids),
                "name": [run.inputs.names.get(i) for i in snap.ids],
                "sector": [sector.get(i) for i in snap.ids],
                "quantity": snap.shares,
                "price": snap.price,
            },
            schema={
                "ticker": pl.String,
                "name": pl.String,
                "sector": pl.String,
                "quantity": pl.Float64,
                "price": pl.Float64,
            },
        )
        data = holdings_csv(
            title=title,
            as_of=snap.session,
            inception=path.sessions[0],
            units=snap.units,
            lines=lines,
            cash=snap.cash,
        )
        target = out / "holdings" / holdings_file_name(FUND_TICKER, snap.session)
        written.append(write_bytes_atomic(target, data, parents=True))
        files.append(f"holdings/{target.name}")
    summary = {**run.summary, "holdings_files": files}
    text = json.dumps(summary, indent=2, allow_nan=False)
    written.append(
        write_bytes_atomic(out / "summary.json", text.encode(), parents=True)
    )
    return written


def _clean(value: Any) -> Any:
    """``value`` with every non-finite float as None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
