"""An index fund simulated session by session against its index (docs/funds.md).

Input: :class:`IndexPath`, the index's lines during each session (index shares
``N``, reference price ``P_ref``, close ``P``, gross ordinary dividend ``d``), as
the calculation's constituent file gives them, with the lines' sectors, daily
volumes (as ADV known at each close) and, for the optimised method, a history of
daily returns. Output: :class:`FundResult`, the fund's NAV, cash, trades and
costs by kind per session and holdings on chosen sessions.

Conventions (each one a statement the tests check):

* **Trading at the close.** At the close of session ``t`` the fund trades to its
  target for session ``t + 1``. Full replication targets the index's *opening
  weights* of ``t + 1``, ``N_{t+1} P_ref_{t+1} / sum(N P_ref)`` (the pro-forma
  file an index publishes before the close: its shares after the close's changes
  and the next open's announced actions). Nothing else of ``t + 1`` is read.
* **Corporate actions.** A position keeps its value from the close to the next
  open at the index's reference price: shares at the open = shares at the close x
  ``p_close / P_ref`` (for a split or a stock dividend, the holder's own share
  change; value paid out by a special dividend, a spin-off or rights is re-formed
  into the line at the reference price, as the index does). A line that joins at
  the close is bought at ``P_ref`` of its first session (its close, unless an
  action goes ex that day). With whole shares the fraction left by an action is
  paid in cash at ``P_ref`` (cash in lieu).
* **Dividends.** The gross ordinary dividend is cash on the ex-date and is
  invested with the rest of the cash at that close when the band rule trades
  (the index's total return reinvests it at the ex-date close, gross: no
  withholding).
* **Cash.** Earns nothing (its drag on the return is the cash weight times the
  index's return). The fund aims at ``cash_buffer`` of its assets in cash.
* **Whole shares.** Target shares are rounded down (``whole_shares``); the
  residue stays in cash.
* **Band rule.** A line is traded when its target value differs from its
  holding by more than ``drift_band`` of the target (a line joining or leaving
  the target always trades). Trades and their costs come out of cash; the
  targets are set on the assets net of the costs of the trades (two passes).
* **Flows.** A flow (USD, subscriptions > 0) arrives in cash at its session's
  close before trading; units are issued or redeemed at that close's NAV before
  the flow; the costs of investing it fall on the fund (no swing pricing).
* **NAV.** ``nav_t = (holdings at P_t + cash - costs of t's trades) / units``.
  At the start the fund holds ``aum`` in cash; units are set so that the NAV
  before the first trades equals the index's total-return level, so ``nav`` and
  ``index_tr`` are on one scale and the launch costs count in the tracking
  difference.
* **Sampling and optimisation** hold a selection of lines chosen on the start
  session, every ``reselect_sessions`` sessions, and whenever lines joining the
  index weigh more than ``reselect_entry_weight`` of it (a reconstitution);
  between selections the target is the held weights as they drift (lines that
  leave are sold and their value spread pro rata).

Tracking: the daily active return is the fund's NAV return minus the index's
total return; tracking error is its standard deviation (``ddof = 1``) times
``sqrt(252)`` (:data:`PERIODS_PER_YEAR`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from r2k.errors import InputError
from r2k.funds.costs import (
    COST_KINDS,
    SIZE_CLASSES,
    CostSettings,
    TradeCosts,
    size_class,
    trade_costs,
)
from r2k.funds.optimizer import (
    min_tracking_error,
    prior_risk_model,
    statistical_risk_model,
)
from r2k.funds.sampling import stratified_weights

if TYPE_CHECKING:
    from datetime import date

    from r2k._typing import FundMethod

__all__ = [
    "NAV_COLUMNS",
    "PERIODS_PER_YEAR",
    "FundResult",
    "FundSettings",
    "HoldingsSnapshot",
    "IndexPath",
    "simulate",
    "tracking_summary",
]

PERIODS_PER_YEAR: Final = 252
"""Sessions per year in every annualisation of the fund simulation."""

NAV_COLUMNS: Final = (
    "session",
    "nav",
    "index_tr",
    "fund_return",
    "index_return",
    "active_return",
    "tracking_difference",  # cumulative: nav / base - index_tr / index_tr_0
    "total_net_assets",
    "units",
    "cash",
    "cash_weight",
    "flow",
    "dividends",
    "cash_in_lieu",
    "buys",
    "sells",
    "turnover",  # min(buys, sells) / total net assets
    "commission",
    "spread",
    "impact",
    "costs",
    "lines_held",
    "lines_traded",
    "reselected",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexPath:
    """The index session by session, in long form, and what the fund needs with it.

    Session 0 is the start (the fund's launch close); its rows are empty. Rows of
    session ``t`` (``1 .. T``) are ``offsets[t]:offsets[t+1]``: the lines held
    during ``t``. Session ``T + 1`` is the pro-forma target after the last close
    (``N`` and ``P_ref`` only: ``close`` NaN, ``dividend`` 0), so ``offsets`` has
    ``T + 3`` entries and ``sessions`` ``T + 1``.

    Attributes
    ----------
    sessions
        Session 0 (start) .. T.
    ids
        Line ids; ``line`` holds codes into it.
    offsets, line, index_shares, reference_price, close, dividend
        The long rows (see above).
    index_total_return
        The index's total-return level on each session (``T + 1`` values).
    sector
        Sector code of each line (``len(ids)``).
    adv
        ``(T + 1) x len(ids)``: median daily share volume known at each close
        (sessions before it); NaN unknown. None: unknown everywhere.
    returns
        ``(lead + T + 1) x len(ids)`` daily returns, row ``lead + t`` the return of
        session ``t`` (for the optimised method's risk model); None: none.
    returns_lead
        Sessions of returns before session 0.
    sector_names
        Name of each sector code.
    """

    sessions: tuple[date, ...]
    ids: tuple[str, ...]
    offsets: np.ndarray
    line: np.ndarray
    index_shares: np.ndarray
    reference_price: np.ndarray
    close: np.ndarray
    dividend: np.ndarray
    index_total_return: np.ndarray
    sector: np.ndarray
    adv: np.ndarray | None = None
    returns: np.ndarray | None = None
    returns_lead: int = 0
    sector_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        t = len(self.sessions)
        if len(self.offsets) != t + 2:
            msg = (
                f"offsets needs {t + 2} entries for {t} sessions, "
                f"not {len(self.offsets)}"
            )
            raise InputError(msg)
        if len(self.index_total_return) != t:
            msg = "index_total_return needs one level per session"
            raise InputError(msg)
        if self.offsets[1] != self.offsets[0]:
            msg = "session 0 (the start) has no rows"
            raise InputError(msg)

    def rows(self, t: int) -> slice:
        """Rows of session ``t`` (``T + 1``: the pro-forma target)."""
        return slice(int(self.offsets[t]), int(self.offsets[t + 1]))


@dataclass(frozen=True, slots=True, kw_only=True)
class FundSettings:
    """How the fund is run (docs/funds.md, "Fund simulation", has each source).

    Attributes
    ----------
    method
        ``"full"``, ``"sampling"`` or ``"optimized"``.
    names
        Lines held by sampling and optimisation (ignored by full replication).
    aum
        Assets at launch, USD.
    costs
        :class:`r2k.funds.costs.CostSettings`.
    cash_buffer
        Target cash, a fraction of assets (default 0: fully invested).
    whole_shares
        Round target shares down to whole shares (False: fractional).
    drift_band
        A line is traded when its holding is off its target value by more than
        this fraction of the target (default 0.0025).
    reselect_sessions
        Sessions between selections of sampling and optimisation (default 63, a
        quarter: the index's quarterly updates).
    reselect_entry_weight
        Also reselect when lines joining the index weigh more than this (default
        0.5%: reconstitutions and large quarterly IPO additions).
    size_buckets
        Size buckets of the sampling cells (3: terciles within the index).
    keep_buffer
        At a selection, a held line keeps its place while it ranks within
        ``(1 + keep_buffer)`` times the places of its cell (sampling) or of the
        fund (optimisation) (default 0.5): fewer lines bought and sold at the edge.
    risk_window
        Sessions of returns in the risk model (default 252, a year).
    risk_factors
        Principal components of the risk model (default 10).
    min_history
        Fewer sessions of history than this: the prior risk model (default 60,
        a quarter).
    holdings_sessions
        Sessions whose holdings after the close are kept (the last is always kept).
    """

    method: FundMethod = "full"
    names: int = 600
    aum: float = 1e9
    costs: CostSettings = field(default_factory=CostSettings)
    cash_buffer: float = 0.0
    whole_shares: bool = True
    drift_band: float = 0.0025
    reselect_sessions: int = 63
    reselect_entry_weight: float = 0.005
    size_buckets: int = 3
    keep_buffer: float = 0.5
    risk_window: int = 252
    risk_factors: int = 10
    min_history: int = 60
    holdings_sessions: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        checks = {
            "aum": self.aum > 0 and math.isfinite(self.aum),
            "names": self.names >= 1,
            "cash_buffer": 0 <= self.cash_buffer < 1,
            "drift_band": 0 <= self.drift_band < 1,
            "reselect_sessions": self.reselect_sessions >= 1,
            "reselect_entry_weight": 0 <= self.reselect_entry_weight <= 1,
            "size_buckets": self.size_buckets >= 1,
            "keep_buffer": self.keep_buffer >= 0,
            "risk_window": self.risk_window >= 2,
            "risk_factors": self.risk_factors >= 1,
            "min_history": self.min_history >= 2,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            msg = f"fund settings out of range: {values}"
            raise InputError(msg)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingsSnapshot:
    """The fund's holdings after a session's close (after its trades)."""

    session: date
    ids: tuple[str, ...]
    shares: np.ndarray
    price: np.ndarray
    cash: float
    units: float

    @property
    def market_value(self) -> np.ndarray:
        """Shares x price of each line."""
        out: np.ndarray = self.shares * self.price
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FundResult:
    """A simulated fund.

    Attributes
    ----------
    nav
        One row per session, :data:`NAV_COLUMNS`.
    holdings
        Snapshots on the sessions asked for and the last session.
    settings
        The settings the fund ran with.
    selections
        Sessions on which sampling or optimisation chose its lines, with the
        risk model used (``"statistical"``, ``"prior"``, or ``""``).
    """

    nav: pl.DataFrame
    holdings: tuple[HoldingsSnapshot, ...]
    settings: FundSettings
    selections: tuple[tuple[date, str], ...] = ()


class _Selector:
    """The target weights of sampling and optimisation (held weights drift between)."""

    def __init__(self, path: IndexPath, settings: FundSettings) -> None:
        self.path = path
        self.settings = settings
        self.last: int | None = None
        self.log: list[tuple[date, str]] = []

    def due(self, t: int, entry_weight: float) -> bool:
        """Whether the lines are chosen again at the close of ``t``."""
        s = self.settings
        return (
            self.last is None
            or t - self.last >= s.reselect_sessions
            or entry_weight > s.reselect_entry_weight
        )

    def select(
        self,
        t: int,
        lines: np.ndarray,
        weights: np.ndarray,
        float_cap: np.ndarray,
        held: np.ndarray,
    ) -> np.ndarray:
        """Weights of the method over ``lines`` (index weights ``weights``)."""
        path, s = self.path, self.settings
        self.last = t
        sector = path.sector[lines]
        if s.method == "sampling":
            self.log.append((path.sessions[t], ""))
            return stratified_weights(
                weights,
                sector,
                float_cap,
                s.names,
                size_buckets_count=s.size_buckets,
                held=held,
                keep_buffer=s.keep_buffer,
            )
        history = 0
        window = None
        if path.returns is not None:
            end = path.returns_lead + t + 1
            first = max(0, end - s.risk_window)
            window = path.returns[first:end][:, lines]
            history = int(np.isfinite(window).any(axis=1).sum())
        if window is not None and history >= s.min_history:
            model = statistical_risk_model(
                window[np.isfinite(window).any(axis=1)], factors=s.risk_factors
            )
        else:
            model = prior_risk_model(
                sector, float_cap, size_buckets_count=s.size_buckets
            )
        self.log.append((path.sessions[t], model.kind))
        return min_tracking_error(
            weights, model, s.names, held=held, keep_buffer=s.keep_buffer
        )


_MAX_PASSES: Final = 16  # passes setting the targets net of the trades' costs
_WHOLE_TOLERANCE: Final = 1e-9  # shares: 2.9999999999 is 3 whole shares


def _plan_trades(
    *,
    value: float,
    cash: float,
    weights: np.ndarray,
    held: np.ndarray,
    price: np.ndarray,
    adv: np.ndarray,
    size: np.ndarray,
    settings: FundSettings,
    charge: bool,
) -> tuple[np.ndarray, TradeCosts]:
    """Shares to trade in each line at this close, and their costs.

    The targets are ``weights`` of the assets net of the target cash and of the
    trades' own costs; the first pass ignores the costs, each next one takes off
    what the cash fell short of its target (twice as much again when whole shares
    left the cash where it was), until it does not. The band rule
    leaves lines near their target alone, unless the cash would be negative
    without trading them (a redemption): then every line goes to its target.
    """
    s = settings
    target_cash = value * s.cash_buffer
    investable = value - target_cash
    band = s.drift_band
    tolerance = 1e-12 * max(value, 1.0)
    delta = np.zeros(len(held))
    paid = trade_costs(delta, price, adv, size, s.costs)
    previous, stuck = math.nan, 1.0
    for _ in range(_MAX_PASSES):
        target = investable * weights
        want = target / price
        if s.whole_shares:
            want = np.floor(want + _WHOLE_TOLERANCE)
        gap = np.abs(want - held) * price
        move = ((gap > band * target) | (target == 0) | (held == 0)) & (want != held)
        delta = np.where(move, want - held, 0.0)
        paid = trade_costs(delta, price, adv, size, s.costs) if charge else paid
        after = cash - float((delta * price).sum()) - float(paid.total().sum())
        if after < -tolerance and band > 0:
            band = 0.0  # cash would go negative: trade every line to its target
            continue
        if not charge or after >= target_cash - tolerance:
            break
        stuck = 1.0 if after != previous else 2.0 * stuck  # whole shares: step up
        previous = after
        investable -= stuck * (target_cash - after)
    return delta, paid


def simulate(
    path: IndexPath,
    settings: FundSettings,
    *,
    flows: np.ndarray | None = None,
) -> FundResult:
    """Run the fund over the path (see the module's conventions).

    Parameters
    ----------
    path
        The index, session by session.
    settings
        How the fund is run.
    flows
        USD in (> 0) or out (< 0) at each session's close (``T + 1`` values);
        None: no flows.

    Returns
    -------
    FundResult

    Raises
    ------
    ValueError
        If a redemption exceeds the fund's assets, or ``flows`` has the wrong
        length.
    """
    n_sessions = len(path.sessions)
    n_lines = len(path.ids)
    if flows is None:
        flows = np.zeros(n_sessions)
    if len(flows) != n_sessions:
        msg = f"flows needs one value per session ({n_sessions}), not {len(flows)}"
        raise InputError(msg)
    s = settings
    costs_cfg = s.costs
    charge = (
        costs_cfg.commission_bps > 0
        or costs_cfg.impact_bps > 0
        or any(v > 0 for v in costs_cfg.half_spread_bps)
    )
    keep = set(s.holdings_sessions) | {path.sessions[-1]}
    selector = _Selector(path, s) if s.method != "full" else None
    held = np.zeros(n_lines)  # shares after the last close's trades
    price = np.full(n_lines, np.nan)  # trade price at the current close
    member = np.zeros(n_lines, dtype=bool)  # lines of the current session
    cash = float(s.aum)
    units = float(s.aum) / float(path.index_total_return[0])
    out = {name: np.zeros(n_sessions) for name in NAV_COLUMNS if name != "session"}
    snapshots: list[HoldingsSnapshot] = []
    for t in range(n_sessions):
        rows = path.rows(t)
        lines = path.line[rows]
        nxt = path.rows(t + 1)
        nlines = path.line[nxt]
        dividends = in_lieu = 0.0
        if t > 0:
            # the open: positions pass through the session's actions at P_ref
            ref = path.reference_price[rows]
            held[lines] = held[lines] * price[lines] / ref
            if s.whole_shares:
                whole = np.floor(held[lines] + 1e-9)
                in_lieu = float(((held[lines] - whole) * ref).sum())
                held[lines] = whole
            dividends = float((held[lines] * path.dividend[rows]).sum())
            cash += dividends + in_lieu
            price[lines] = path.close[rows]
        value_before = float((held[lines] * price[lines]).sum()) + cash
        flow = float(flows[t])
        if flow != 0.0:
            if value_before + flow <= 0:
                msg = (
                    f"the redemption of {-flow:,.0f} USD on {path.sessions[t]} exceeds "
                    f"the fund's assets ({value_before:,.0f} USD)"
                )
                raise InputError(msg)
            units += flow / (value_before / units)
            cash += flow
        value = value_before + flow
        # the target after this close: lines of the next session
        member[:] = False
        member[lines] = True
        entrants = ~member[nlines]
        nref = path.reference_price[nxt]
        enter_price = np.where(np.isnan(price[nlines]) | entrants, nref, price[nlines])
        price[nlines] = enter_price
        cap = path.index_shares[nxt] * nref
        index_w = cap / cap.sum() if cap.sum() > 0 else np.zeros(len(nlines))
        reselected = False
        if selector is None:
            weights = index_w
        else:
            kept = held[nlines] * price[nlines]  # held weights as they drifted
            if kept.sum() <= 0 or selector.due(t, float(index_w[entrants].sum())):
                weights = selector.select(t, nlines, index_w, cap, held[nlines] > 0)
                reselected = True
            else:
                weights = kept / kept.sum()
        trade_lines = np.union1d(lines[held[lines] != 0], nlines) if t > 0 else nlines
        size_of = np.full(n_lines, len(SIZE_CLASSES) - 1, dtype=np.int8)
        size_of[nlines] = size_class(cap)
        adv = (
            path.adv[t][trade_lines]
            if path.adv is not None
            else np.full(len(trade_lines), np.nan)
        )
        target_value = np.zeros(n_lines)
        target_value[nlines] = weights
        delta, paid = _plan_trades(
            value=value,
            cash=cash,
            weights=target_value[trade_lines],
            held=held[trade_lines],
            price=price[trade_lines],
            adv=adv,
            size=size_of[trade_lines],
            settings=s,
            charge=charge,
        )
        notional = delta * price[trade_lines]
        buys = float(notional[notional > 0].sum())
        sells = float(-notional[notional < 0].sum()) + 0.0  # no -0.0
        by_kind = {k: float(getattr(paid, k).sum()) for k in COST_KINDS}
        total_cost = sum(by_kind.values())
        held[trade_lines] += delta
        cash += sells - buys - total_cost
        tna = value - total_cost
        row = out
        row["nav"][t] = tna / units
        row["index_tr"][t] = path.index_total_return[t]
        row["total_net_assets"][t] = tna
        row["units"][t] = units
        row["cash"][t] = cash
        row["cash_weight"][t] = cash / tna
        row["flow"][t] = flow
        row["dividends"][t] = dividends
        row["cash_in_lieu"][t] = in_lieu
        row["buys"][t] = buys
        row["sells"][t] = sells
        row["turnover"][t] = min(buys, sells) / tna
        for k in COST_KINDS:
            row[k][t] = by_kind[k]
        row["costs"][t] = total_cost
        row["lines_held"][t] = int((held != 0).sum())
        row["lines_traded"][t] = int((delta != 0).sum())
        row["reselected"][t] = float(reselected)
        if path.sessions[t] in keep:
            idx = np.flatnonzero(held != 0)
            snapshots.append(
                HoldingsSnapshot(
                    session=path.sessions[t],
                    ids=tuple(path.ids[i] for i in idx),
                    shares=held[idx].copy(),
                    price=price[idx].copy(),
                    cash=cash,
                    units=units,
                )
            )
        # lines sold out have no price to carry into the next open
        gone = np.ones(n_lines, dtype=bool)
        gone[nlines] = False
        price[gone] = np.nan
    nav = out["nav"]
    tr = out["index_tr"]
    fund_ret = np.concatenate([[0.0], nav[1:] / nav[:-1] - 1.0])
    index_ret = np.concatenate([[0.0], tr[1:] / tr[:-1] - 1.0])
    frame = pl.DataFrame(
        {
            "session": pl.Series(path.sessions, dtype=pl.Date),
            **{k: out[k] for k in NAV_COLUMNS if k not in ("session",)},
        }
    ).with_columns(
        fund_return=pl.Series(fund_ret),
        index_return=pl.Series(index_ret),
        active_return=pl.Series(fund_ret - index_ret),
        tracking_difference=pl.Series(nav / tr[0] - tr / tr[0]),
        lines_held=pl.col("lines_held").cast(pl.Int64),
        lines_traded=pl.col("lines_traded").cast(pl.Int64),
        reselected=pl.col("reselected").cast(pl.Boolean),
    )
    return FundResult(
        nav=frame.select(NAV_COLUMNS),
        holdings=tuple(snapshots),
        settings=settings,
        selections=tuple(selector.log) if selector is not None else (),
    )


def tracking_summary(nav: pl.DataFrame) -> dict[str, float | int]:
    """Tracking error, tracking difference, turnover and costs of a NAV table.

    Tracking error: standard deviation (``ddof = 1``) of the daily active returns
    of sessions 1 .. T times ``sqrt(252)``. Tracking difference: the fund's return
    over the window (from the NAV before launch costs, equal to the index level)
    minus the index's; annualised: each return compounded to 252 sessions a year.
    Turnover: the lesser of purchases and sales after the launch session over the
    mean total net assets, annualised (the SEC's definition of portfolio
    turnover in Form N-1A, on daily data). Costs: USD, and basis points of
    the mean total net assets per year.
    """
    active = nav["active_return"].to_numpy()[1:]
    sessions = len(active)
    tr = nav["index_tr"].to_numpy()
    navs = nav["nav"].to_numpy()
    fund_total = navs[-1] / tr[0] - 1.0
    index_total = tr[-1] / tr[0] - 1.0
    years = sessions / PERIODS_PER_YEAR if sessions else math.nan
    tna = nav["total_net_assets"].to_numpy()
    mean_tna = float(tna.mean())
    after = nav.slice(1)
    buys, sells = float(after["buys"].sum()), float(after["sells"].sum())
    te = (
        float(np.std(active, ddof=1) * math.sqrt(PERIODS_PER_YEAR))
        if sessions > 1
        else math.nan
    )
    out: dict[str, float | int] = {
        "sessions": sessions,
        "periods_per_year": PERIODS_PER_YEAR,
        "ddof": 1,
        "tracking_error": te,
        "fund_return": float(fund_total),
        "index_return": float(index_total),
        "tracking_difference": float(fund_total - index_total),
        "tracking_difference_annualized": float(
            (1 + fund_total) ** (1 / years) - (1 + index_total) ** (1 / years)
        )
        if sessions
        else math.nan,
        "turnover_annualized": min(buys, sells) / mean_tna / years
        if sessions
        else math.nan,
        "mean_cash_weight": float(nav["cash_weight"].mean()),  # type: ignore[arg-type]
        "launch_costs_usd": float(nav["costs"][0]),
    }
    for kind in (*COST_KINDS, "costs"):
        total = float(nav[kind].sum())
        out[f"{kind}_usd"] = total
        out[f"{kind}_bps_per_year"] = (
            total / mean_tna * 1e4 / years if sessions else math.nan
        )
    return out
