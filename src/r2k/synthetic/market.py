"""A seeded synthetic daily market, a data source like any other.

:func:`synthetic_market` generates every XNYS session of a date range for a market of
about ``n_companies`` listed companies: daily closes, volumes and share counts
(:data:`r2k.schemas.MARKET`), the securities ever listed, float factors, voting rights
and the corporate actions that moved prices and shares
(:data:`r2k.schemas.CORPORATE_ACTIONS`). It drives the demo on a bare machine,
property tests and benchmarks of index calculation. The output is a pure function of
the inputs: the same arguments always give the same frames.

Model
-----
* **Caps.** Each company sits on a *slot* with a latent rank ``R`` in ``[1, N]``
  (``N = n_companies``) that diffuses in log space (:data:`RANK_DIFFUSION`, with the
  drift and reflections that keep the cross-section uniform in rank). Its target
  total cap is :func:`r2k.synthetic.universe.rank_curve` of ``R`` (2026 dollars),
  times the market level, times a sector factor; the company's log cap deviates from the
  target by an Ornstein-Uhlenbeck term (:data:`DEV_REVERSION`). The market level is
  1 at the session nearest :data:`ANCHOR` (2026-04-30) and follows the market
  factor elsewhere, so older years are smaller (in expectation 20x smaller in 1979;
  the realised path varies with the seed) while the cross-sectional shape holds on
  every date: at the anchor the company ranked 1,000 is near $5bn and the one ranked
  3,000 near $125M (measured after 30 years of evolution: $4.9bn and $136M).
* **Returns.** Daily log return = market factor (:data:`MARKET_DRIFT`,
  :data:`MARKET_VOL`) + sector factor (:data:`SECTOR_VOL`, mean reverting) +
  idiosyncratic noise whose annual volatility falls with size from
  :data:`IDIO_VOL_MICRO` to :data:`IDIO_VOL_MEGA`. Prices are primary: share
  changes (offerings, buybacks, merger issuance) do not move the price, distributions
  do (dividends, specials, spin-offs, in-the-money rights), splits divide it.
  Dividend payers drift up by their yield between ex-dates, so payers and
  non-payers keep the same total-return level.
* **Lines.** Single-class companies trade one line ``S0012`` named
  "Synthetic 0012 Inc. Common Stock"; multi-class companies (:data:`MULTI_CLASS_SHARE`)
  trade ``S0012.A`` and ``S0012.B`` ("... Class A/B Common Stock", class B close a
  constant fraction of class A, its own share count). Some companies also list a
  non-common line (:data:`NON_COMMON_SHARE`: warrant, units, preferred, notes,
  depositary shares, closed-end fund, SPAC, partnership; names from
  :mod:`r2k.synthetic.universe`) that the screens reject by its name; these lines
  carry no share count (null ``shares_outstanding`` and ``total_market_cap``).
* **Flow.** Rates are per 1,000 companies per year (the ``*_RATE`` constants).
  Entries and exits balance: removals (mergers, delistings, bankruptcies) free a
  slot that an IPO refills with probability ``IPO_RATE / removal rate``; spin-off
  children add companies. To balance, delistings (22) sit above and IPOs (52) below
  the rough real-world figures (15 and 60).

Corporate actions
-----------------
``ex_date`` is the first session an action is in effect, except for mergers,
delistings and bankruptcies where it is the line's *last* session. Prices and shares
are consistent with every row: splits and stock dividends divide the close and
multiply the shares by ``ratio``; cash and special dividends make the close drop by
``amount``; in-the-money rights move the close to TERP x the day's return and grow
shares by ``1 + ratio``; spin-off parents drop by ``ratio`` x the child's first close
(``amount``, null for 30% of spin-offs); merger targets converge to the terms
(acquirer close x ``ratio`` + ``amount``) and close exactly at the terms on their
last session; acquirers' shares grow by target shares x ``ratio`` the next session;
bankrupt lines collapse to a penny price; ``share_change`` gives the new total in
``shares_outstanding``. Actions never touch non-common lines; each company has at
most one action per session (class A and B lines of a company share theirs).

For consumers
-------------
* Identifiers follow listing order (``S`` + a zero-padded number, at least 4 digits,
  never reused); ``company_id`` is ``C`` + the number of the company's first line
  and survives identifier changes. A line trades on every session from its first to
  its last: no gaps, no stale rows.
* No action falls on a line's first session or on the span's first session: every
  action's line traded on the previous session (identifier changes: the old id).
* An acquirer's issuance session (the session after the merger's ``ex_date``)
  carries no other action of the acquirer; the acquirer takes no split, rights,
  spin-off, share change or identifier change from the announcement to that session
  (cash dividends continue). Merger and bankruptcy windows (30-120 and 40-160
  sessions) are truncated at the start of the span.
* Class B closes and shares are constant multiples of class A's; merger rows of
  class B carry ``ratio`` 0 and the cash scaled to the class (multi-class targets are
  bought for cash). Multi-class companies take no rights, spin-off, share change,
  identifier change or bankruptcy and never acquire.
* Non-common lines end with their company without an action row; their closes
  follow the common close (warrants, units, depositary shares, partnerships) or a
  flat level (preferreds, notes, closed-end funds, SPACs) with daily noise.

Speed and memory
----------------
Generation is vectorised NumPy over the slots of each session (float64): a first
pass over the sessions simulates the ranks and decides who lists, merges and
leaves; a second replays the ranks, simulates prices and shares and writes each
session's rows straight into the long arrays, so no sessions x companies matrix is
kept. The rows are then held in columnar, typed form (:attr:`SyntheticMarket.panel`:
the date, the line as a 1-, 2- or 4-byte code of a ``pl.Enum``, close, volume and
shares; 30 bytes a row, no string and no market cap per row). The
:data:`r2k.schemas.MARKET` frame (:attr:`SyntheticMarket.market`: the line's id,
name and sector as strings on every row, and the market cap) is built from it on
first use, in one parallel Polars pass, and kept: 56 more bytes a row. Both are
exactly the values of before (float64 throughout: float32 closes would change the
levels).

On the 2-core development machine, 4,000 companies over 40 years (10,078 sessions,
45.7M rows) generate in 8-15 s (with other jobs running) and peak at 1.54 GiB of
resident memory (it was 4.3 GiB when the MARKET frame was built during generation);
building the MARKET frame then takes 2.5-3 s more and brings the process to
4.2 GiB. Measured in a fresh process by ``python -m bench.run_bench`` (the peak
memory rows, ``bench/calc_bench.py``), or with ``.venv/bin/python -`` reading::

    import time
    from datetime import date
    from r2k.synthetic.market import synthetic_market
    synthetic_market(10, start=date(2000, 1, 3), end=date(2000, 1, 7))  # warm-up
    t = time.perf_counter()
    m = synthetic_market(4000, start=date(1986, 1, 2), end=date(2025, 12, 31))
    print(time.perf_counter() - t)
    print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0], "kB")
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from r2k import schemas
from r2k.errors import InputError
from r2k.sessions import sessions_in_range
from r2k.synthetic.universe import _NON_COMMON, SECTORS, rank_curve

if TYPE_CHECKING:
    from collections.abc import Callable

    from r2k.maintenance.market import RowExpander

__all__ = [
    "ANCHOR",
    "PANEL",
    "VOTING",
    "SyntheticMarket",
    "market_rows",
    "row_expander",
    "synthetic_market",
]

ANCHOR: Final = date(2026, 4, 30)
"""Session where the market level is 1 (caps follow ``rank_curve`` exactly)."""

VOTING: Final = pl.Schema({"security_id": pl.String, "voting_rights_pct": pl.Float64})
"""Schema of :attr:`SyntheticMarket.voting`."""

PANEL: Final = pl.Schema(
    {
        "session": pl.Date(),
        "security_id": pl.Enum([]),  # the market's lines (see SyntheticMarket.panel)
        "close": pl.Float64(),
        "volume": pl.Int64(),
        "shares_outstanding": pl.Float64(),
    }
)
"""Schema of :attr:`SyntheticMarket.panel` (``security_id``'s categories vary)."""

SESSIONS_PER_YEAR: Final = 252.0
QUARTER_SESSIONS: Final = 63  # sessions between quarterly dividend ex-dates

# --- factor model (annual fractions) -------------------------------------------------
MARKET_DRIFT: Final = 0.08  # expected annual market return
MARKET_VOL: Final = 0.16  # annual volatility of the market factor
SECTOR_VOL: Final = 0.10  # annual volatility of each sector factor
SECTOR_REVERSION: Final = 0.5  # per year (sector factors are mean reverting)
IDIO_VOL_MEGA: Final = 0.20  # annual idiosyncratic volatility at MEGA_CAP and above
IDIO_VOL_MICRO: Final = 0.60  # ... at MICRO_CAP and below (log-linear in between)
MEGA_CAP: Final = 2e11  # USD, 2026 dollars
MICRO_CAP: Final = 1e8  # USD, 2026 dollars
RANK_DIFFUSION: Final = 0.08  # volatility of log rank, per square-root year
DEV_REVERSION: Final = 1.0  # per year: pull of a company's cap back to its target
IPO_DEVIATION: Final = 0.3  # sd of the log cap of an IPO around its target
TURNOVER: Final = 0.005  # mean daily volume, fraction of shares outstanding
VOLUME_NOISE: Final = 0.6  # sd of log daily volume around the mean

# --- structure (fractions of companies) ----------------------------------------------
MULTI_CLASS_SHARE: Final = 0.03
NON_COMMON_SHARE: Final = 0.12  # companies that also list a non-common line
PENNY_SHARE: Final = 0.03  # companies below $1.00 at the start of the span
IPO_PENNY_SHARE: Final = 0.08  # IPOs listing at $0.30-$1.50 (uplistings)
LOW_FLOAT_SHARE: Final = 0.02  # float factor below 0.15
LOW_VOTING_SHARE: Final = 0.01  # voting rights below 5%
DIVIDEND_PAYER_SHARE: Final = 0.40  # quarterly cash dividends
DIVIDEND_YIELD: Final = (0.01, 0.03)  # annual yield of payers, uniform

# --- rates: events per 1,000 companies per year --------------------------------------
SPLIT_RATE: Final = 8.0
REVERSE_SPLIT_SHARE: Final = 0.25  # of splits: 1-for-10 of penny stocks
STOCK_DIVIDEND_RATE: Final = 2.0
SPECIAL_DIVIDEND_RATE: Final = 5.0
RIGHTS_RATE: Final = 1.0
RIGHTS_OUT_OF_MONEY_SHARE: Final = 0.3
SPINOFF_RATE: Final = 3.0
MERGER_RATE: Final = 30.0
DELISTING_RATE: Final = 22.0
BANKRUPTCY_RATE: Final = 3.0
IDENTIFIER_CHANGE_RATE: Final = 10.0
SHARE_CHANGE_RATE: Final = 40.0
LARGE_SHARE_CHANGE_SHARE: Final = 0.25  # of share changes: 5-15% of a top-300 company
FLOAT_CHANGE_RATE: Final = 20.0  # float factor revisions (FLOAT_FACTORS rows only)
IPO_RATE: Final = 52.0
REMOVAL_RATE: Final = MERGER_RATE + DELISTING_RATE + BANKRUPTCY_RATE

_DT: Final = 1.0 / SESSIONS_PER_YEAR
_CHUNK: Final = 256  # sessions of random draws generated at once
_MIN_AGE: Final = 21  # sessions a line trades before a spin-off
_ATTEMPTS: Final = 64  # rejection-sampling attempts per event
_EPOCH: Final = date(1970, 1, 1)
_SOURCE: Final = "synthetic"
# Non-common lines: ticker suffix, price model ("prop": multiple of the common
# close, "flat": level), multiple range, daily log noise.
_NON_COMMON_PRICING: Final[dict[str, tuple[str, str, float, float, float]]] = {
    "warrant": (".WS", "prop", 0.05, 0.25, 0.03),
    "unit": (".UN", "prop", 1.0, 1.05, 0.005),
    "preferred": (".PR", "flat", 20.0, 26.0, 0.004),
    "note": (".NT", "flat", 23.0, 26.0, 0.003),
    "depositary": (".DS", "prop", 0.5, 2.0, 0.01),
    "closed_end_fund": (".CF", "flat", 8.0, 20.0, 0.01),
    "spac": (".SP", "flat", 10.0, 10.5, 0.002),
    "partnership": (".LP", "prop", 0.3, 1.0, 0.01),
}
_END_SURVIVES, _END_MERGER, _END_DELISTING, _END_BANKRUPTCY = 0, 1, 2, 3
_SPIN: Final = 4
_END_NAMES: Final = {
    _END_MERGER: "merger",
    _END_DELISTING: "delisting",
    _END_BANKRUPTCY: "bankruptcy",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticMarket:
    """A synthetic daily market: panel, reference data and corporate actions.

    The rows are held in columnar, typed form (:attr:`panel`, 30 bytes a row);
    :attr:`market` is the same rows as a :data:`r2k.schemas.MARKET` frame, with the
    line's name and sector on every row as strings, built on first use and kept.

    Attributes
    ----------
    panel
        The rows, sorted by session then security_id: ``session`` (Date),
        ``security_id`` (``pl.Enum`` of :attr:`securities`' ``security_id`` in
        order: 1-, 2- or 4-byte codes), ``close`` (Float64), ``volume`` (Int64),
        ``shares_outstanding`` (Float64, null for non-common lines). The name and
        sector are the line's (:attr:`securities`); the total market cap is
        ``close * shares_outstanding``.
    securities
        :data:`r2k.schemas.SECURITIES`, every line ever listed, sorted by
        security_id (the order of the panel's codes).
    float_factors
        :data:`r2k.schemas.FLOAT_FACTORS`, dated changes.
    voting
        :data:`VOTING`, one row per equity line.
    actions
        :data:`r2k.schemas.CORPORATE_ACTIONS`, sorted by ex_date, security_id.
    seed
        The seed it was generated from.
    """

    panel: pl.DataFrame
    securities: pl.DataFrame
    float_factors: pl.DataFrame
    voting: pl.DataFrame
    actions: pl.DataFrame
    seed: int
    _built: dict[str, pl.DataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def market(self) -> pl.DataFrame:
        """:data:`r2k.schemas.MARKET`, sorted by session, security_id.

        Built from :attr:`panel` and :attr:`securities` on first use (about 56 more
        bytes a row: three string columns and the market cap) and kept.
        """
        frame = self._built.get("market")
        if frame is None:
            frame = market_rows(self.panel, self.securities)
            self._built["market"] = frame
        return frame


def market_rows(panel: pl.DataFrame, securities: pl.DataFrame) -> pl.DataFrame:
    """The typed rows of a :attr:`SyntheticMarket.panel` as a MARKET frame.

    Parameters
    ----------
    panel
        :attr:`SyntheticMarket.panel`.
    securities
        The lines, in the order of the panel's ``security_id`` codes.

    Returns
    -------
    pl.DataFrame
        :data:`r2k.schemas.MARKET`, row for row.

    Raises
    ------
    ValueError
        If the lines are not those of the panel's codes, in order.
    """
    return row_expander(panel, securities)(panel)


def row_expander(panel: pl.DataFrame, securities: pl.DataFrame) -> RowExpander:
    """What :func:`market_rows` does to any row range of ``panel``, checked once.

    The lines are checked against the panel's codes here; the returned function
    only gathers each row's id, name and sector by its code and computes the
    market cap (a compact :class:`~r2k.maintenance.market.MarketHistory` calls
    it on every range it reads: some 500 cross sections of a 40-year run).

    Raises
    ------
    ValueError
        If the lines are not those of the panel's codes, in order.
    """
    dtype = panel.schema["security_id"]
    if not (
        isinstance(dtype, pl.Enum)
        and dtype.categories.equals(securities["security_id"])
    ):
        msg = "the securities are not the lines of the panel's codes, in order"
        raise InputError(msg)
    code = pl.col("security_id").to_physical()

    def line(column: str) -> pl.Expr:
        return pl.lit(securities[column]).gather(code).alias(column)

    exprs = {
        "session": pl.col("session"),
        "security_id": line("security_id"),
        "name": line("name"),
        "close": pl.col("close"),
        "volume": pl.col("volume"),
        "shares_outstanding": pl.col("shares_outstanding"),
        "total_market_cap": pl.col("close") * pl.col("shares_outstanding"),
        "sector": line("sector"),
    }
    every = tuple(expr.alias(name) for name, expr in exprs.items())
    line_columns = {"security_id", "name", "sector"}

    def expand(
        rows: pl.DataFrame,
        columns: tuple[str, ...] | None = None,
        codes: np.ndarray | None = None,
    ) -> pl.DataFrame:
        if columns and codes is not None and line_columns.issuperset(columns):
            # A line's columns by direct gathers (the expressions' values): no
            # query, which would wait for the thread pool while the background
            # thread's queries hold it (the IPO screen's rows).
            return pl.DataFrame([securities[name][codes] for name in columns])
        if columns is not None:
            return rows.select(exprs[name].alias(name) for name in columns)
        if codes is None:
            frame = rows.select(every)
        else:  # the same values by gathers and a product of columns: no query
            column = rows.get_column
            frame = pl.DataFrame(
                [
                    column("session"),
                    securities["security_id"][codes],
                    securities["name"][codes],
                    column("close"),
                    column("volume"),
                    column("shares_outstanding"),
                    (column("close") * column("shares_outstanding")).alias(
                        "total_market_cap"
                    ),
                    securities["sector"][codes],
                ]
            )
        return schemas.check_schema(frame, schemas.MARKET, source="synthetic market")

    return expand


def synthetic_market(
    n_companies: int = 4500, *, start: date, end: date, seed: int = 0
) -> SyntheticMarket:
    """Generate a daily market of about ``n_companies`` companies.

    Parameters
    ----------
    n_companies
        Number of companies listed at any time (lines are more: class B and
        non-common lines). The cap at company rank ``r`` follows
        :func:`r2k.synthetic.universe.rank_curve` at 2026-04-30.
    start, end
        First and last calendar dates; the market has a row for every XNYS session
        in between (both inclusive) for every line listed that session.
    seed
        Seed of the NumPy generator; the output is a pure function of the inputs.

    Returns
    -------
    SyntheticMarket
        The market panel, securities, float factors, voting rights and corporate
        actions (see the module docstring for their semantics).

    Raises
    ------
    ValueError
        If ``n_companies`` is below 1 or ``end`` is before ``start``.
    r2k.errors.MissingDataError
        If a date is outside the calendar r2k covers.
    """
    if n_companies < 1:
        msg = f"n_companies must be at least 1, got {n_companies}"
        raise InputError(msg)
    if end < start:
        msg = f"end {end} is before start {start}"
        raise InputError(msg)
    sessions = sessions_in_range(start, end)
    return _Builder(n_companies, sessions, seed).run()


# ---------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Merger:
    target: int
    acquirer: int  # -1: private buyer
    first: int  # first session of the convergence window (announcement)
    last: int  # effective date E: the target's last session
    cash_weight: float  # fraction of the consideration paid in cash
    premium: float
    spread: float
    ratio: float = 0.0
    cash: float = 0.0
    target_shares: float = 0.0


@dataclass(slots=True)
class _Spinoff:
    parent: int
    child: int
    session: int
    value_share: float  # child value / parent value before the ex-date
    ratio: float  # child shares per parent share
    child_close: float = math.nan


@dataclass(slots=True)
class _Event:
    occupant: int
    session: int
    action: str
    ratio: float = math.nan
    size: float = math.nan  # relative size: yield, subscription / close ...
    log_price: float = 0.0
    share_factor: float = 1.0
    new_float: bool = False
    log_close: float = math.nan  # recorded by the simulation
    log_prev: float = math.nan
    shares: float = math.nan


class _Builder:
    """One generation run: lifecycle, actions, price simulation, frames."""

    def __init__(self, n: int, sessions: list[date], seed: int) -> None:
        self.n = n
        self.sessions = sessions
        self.nt = len(sessions)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.days = np.array([(d - _EPOCH).days for d in sessions], dtype=np.int32)
        # occupants: one company on one slot from birth to death
        self.o_slot: list[int] = []
        self.o_birth: list[int] = []
        self.o_death: list[int] = []
        self.o_end: list[int] = []
        self.o_hard: list[int] = []  # first session of the end-of-life window
        self.o_origin: list[int] = []  # 0 initial, 1 IPO, 2 spin-off child
        self.o_multi: list[bool] = []
        self.o_parent: list[int] = []
        self.o_xbirth: list[float] = []
        self.lock: list[int] = []  # last session of lifecycle commitments
        self.soft: dict[int, list[tuple[int, int]]] = {}
        self.used: set[int] = set()  # occupant * nt + session with an action
        self.mergers: list[_Merger] = []
        self.spinoffs: list[_Spinoff] = []
        self.events: list[_Event] = []
        self.splits: list[tuple[int, int, float]] = []
        self.float_events: list[tuple[int, int]] = []
        self.large_changes: list[tuple[int, int]] = []
        self.idchange: dict[int, int] = {}
        self.removal_price: dict[int, float] = {}
        self.xmax = math.log(n) if n > 1 else 0.0
        grid = np.linspace(0.0, self.xmax, 64)
        if 0.0 < math.log(1000.0) < self.xmax:
            grid = np.unique(np.append(grid, math.log(1000.0)))
        self.grid_x = grid
        self.grid_lt = np.log(rank_curve(np.exp(grid)))
        curve = rank_curve(np.array([1.0, 1000.0, 3000.0]))
        self.kink = float(np.log(curve[1]))
        self.slope_top = float(np.log(curve[0] / curve[1]) / math.log(1000.0))
        self.slope_bottom = float(np.log(curve[1] / curve[2]) / math.log(3.0))

    # -- helpers ------------------------------------------------------------------

    def _new_occupant(
        self, slot: int, birth: int, origin: int, *, multi: bool, parent: int = -1
    ) -> int:
        o = len(self.o_slot)
        self.o_slot.append(slot)
        self.o_birth.append(birth)
        self.o_death.append(self.nt - 1)
        self.o_end.append(_END_SURVIVES)
        self.o_hard.append(self.nt)
        self.o_origin.append(origin)
        self.o_multi.append(multi)
        self.o_parent.append(parent)
        self.o_xbirth.append(math.nan)
        self.lock.append(-1)
        return o

    def _in_soft(self, o: int, t: int) -> bool:
        return any(lo <= t <= hi for lo, hi in self.soft.get(o, ()))

    def _rank_share(self, x: float) -> float:
        """Rank as a fraction in [0, 1] (0: the largest company)."""
        return (math.exp(x) - 1.0) / (self.n - 1) if self.n > 1 else 0.0

    def _ipo_x(self) -> float:
        # IPOs skew small like removals do: density 0.25 + 0.75 v on [0, 1].
        f = float(self.rng.random())
        v = (-0.25 + math.sqrt(0.0625 + 0.9375 * f)) / 0.75
        return math.log1p((self.n - 1) * v)

    def _dev_sigma(self, lt: np.ndarray) -> np.ndarray:
        """Annual volatility of the deviation from target, from log target caps.

        The rank diffusion already moves the target; the deviation adds the rest
        of the idiosyncratic variance.
        """
        total = np.interp(
            lt,
            [math.log(MICRO_CAP), math.log(MEGA_CAP)],
            [IDIO_VOL_MICRO, IDIO_VOL_MEGA],
        )
        slope = np.where(lt >= self.kink, self.slope_top, self.slope_bottom)
        rank_part = slope * RANK_DIFFUSION
        out: np.ndarray = np.sqrt(np.maximum(total**2 - rank_part**2, 0.05**2))
        return out

    def _x_generator(self) -> np.random.Generator:
        """The generator of the rank process (replayed by the price pass)."""
        return np.random.default_rng([self.seed, 1])

    def _x_step(self, x: np.ndarray, eps: np.ndarray) -> None:
        """Advance the log ranks one session: drift, diffusion, reflection."""
        if self.xmax <= 0:
            return
        x += eps * (RANK_DIFFUSION * math.sqrt(_DT))
        x += 0.5 * RANK_DIFFUSION**2 * _DT
        np.abs(x, out=x)
        over = x > self.xmax
        if over.any():
            x[over] = 2 * self.xmax - x[over]

    # -- run ----------------------------------------------------------------------

    def run(self) -> SyntheticMarket:
        if self.nt == 0:
            return _empty(self.seed)
        self._market_paths()
        self._lifecycle()
        self._attributes()
        self._plan_actions()
        self._lines()
        self._simulate()
        float_factors = self._float_frame()
        actions = self._actions_frame()
        return SyntheticMarket(
            panel=self._panel(),
            securities=self._securities_frame(),
            float_factors=float_factors,
            voting=self._voting_frame(),
            actions=actions,
            seed=self.seed,
        )

    def _market_paths(self) -> None:
        rng, nt = self.rng, self.nt
        from_anchor = (self.days - (ANCHOR - _EPOCH).days).astype(np.float64)
        shocks = rng.standard_normal(nt) * MARKET_VOL * math.sqrt(_DT)
        shocks[0] = 0.0
        walk = np.cumsum(shocks)
        ref = int(np.argmin(np.abs(from_anchor)))
        log_drift = math.log1p(MARKET_DRIFT) - 0.5 * MARKET_VOL**2
        self.mkt = log_drift * from_anchor / 365.25 + walk - walk[ref]
        k = len(SECTORS)
        phi = math.exp(-SECTOR_REVERSION * _DT)
        eps = rng.standard_normal((nt, k)) * SECTOR_VOL * math.sqrt(_DT)
        sf = np.empty((nt, k))
        sf[0] = rng.standard_normal(k) * SECTOR_VOL / math.sqrt(2 * SECTOR_REVERSION)
        for t in range(1, nt):
            sf[t] = phi * sf[t - 1] + eps[t]
        self.sf = sf

    # -- pass 1: who lives where, and when they leave -----------------------------

    def _lifecycle(self) -> None:
        rng, n, nt = self.rng, self.n, self.nt
        scale = n / 1000.0 * nt / SESSIONS_PER_YEAR
        self.scale = scale
        kinds: list[np.ndarray] = []
        times: list[np.ndarray] = []
        for code, rate in (
            (_END_MERGER, MERGER_RATE),
            (_END_DELISTING, DELISTING_RATE),
            (_END_BANKRUPTCY, BANKRUPTCY_RATE),
            (_SPIN, SPINOFF_RATE),
        ):
            count = int(rng.poisson(rate * scale)) if nt > 1 else 0
            times.append(rng.integers(1, max(nt, 2), size=count))
            kinds.append(np.full(count, code))
        ev_t = np.concatenate(times)
        ev_kind = np.concatenate(kinds)
        order = np.lexsort((ev_kind, ev_t))
        ev_t, ev_kind = ev_t[order], ev_kind[order]
        changes = int(rng.poisson(SHARE_CHANGE_RATE * scale)) if nt > 1 else 0
        n_large = int(rng.binomial(changes, LARGE_SHARE_CHANGE_SHARE))
        self.n_share_changes = changes - n_large
        large_t = np.sort(rng.integers(1, max(nt, 2), size=n_large))
        big_x = math.log(300.0)
        n_spin = int((ev_kind == _SPIN).sum())
        ns = n + n_spin
        self.ns = ns
        x = np.zeros(ns)
        x[:n] = np.log1p((n - 1) * (rng.permutation(n) + 0.5) / n)
        self.x_init = x.copy()
        multi0 = rng.random(n) < MULTI_CLASS_SHARE
        for s in range(n):
            self._new_occupant(s, 0, 0, multi=bool(multi0[s]))
        self.slot_occ = list(range(n)) + [-1] * n_spin
        self.n_children = 0
        self.pending: dict[int, list[int]] = {}
        self.x = x
        rng_x = self._x_generator()
        ptr = 0
        lptr = 0
        eps = np.empty((0, ns))
        for t in range(nt):
            if t % _CHUNK == 0:
                eps = rng_x.standard_normal((min(_CHUNK, nt - t), ns))
            if t > 0:
                self._x_step(x, eps[t % _CHUNK])
            for o in self.pending.pop(t, ()):
                x[self.o_slot[o]] = self.o_xbirth[o]
            while ptr < ev_t.size and ev_t[ptr] == t:
                kind = int(ev_kind[ptr])
                if kind == _SPIN:
                    self._spinoff(t)
                else:
                    self._removal(t, kind)
                ptr += 1
            while lptr < large_t.size and large_t[lptr] == t:
                lptr += 1
                cands = np.flatnonzero(x[: n + self.n_children] < big_x)
                for s in rng.permutation(cands)[:_ATTEMPTS].tolist():
                    o = self.slot_occ[s]
                    if (
                        o >= 0
                        and self.o_end[o] == _END_SURVIVES
                        and self.o_birth[o] <= t - 1
                        and not self.o_multi[o]
                    ):
                        self.large_changes.append((o, t))
                        break

    def _removal(self, t: int, kind: int) -> None:
        rng = self.rng
        if kind == _END_MERGER:
            first = max(1, t - int(rng.integers(30, 121)))
        elif kind == _END_BANKRUPTCY:
            first = max(1, t - int(rng.integers(40, 161)))
        else:
            first = t
        cands = rng.integers(0, self.n + self.n_children, size=_ATTEMPTS)
        draws = rng.random(_ATTEMPTS)
        victim = -1
        for s, u in zip(cands.tolist(), draws.tolist(), strict=True):
            o = self.slot_occ[s]
            if (
                o < 0
                or self.o_end[o] != _END_SURVIVES
                or self.o_birth[o] > first - 1
                or self.lock[o] >= first
            ):
                continue
            v = self._rank_share(float(self.x[s]))
            if kind == _END_BANKRUPTCY:
                if self.o_multi[o] or v < 0.5:
                    continue
            elif u > 0.25 + 0.75 * v:
                continue
            victim = o
            break
        if victim < 0:
            return
        o = victim
        self.o_death[o] = t
        self.o_end[o] = kind
        self.o_hard[o] = first
        if kind == _END_MERGER:
            self.mergers.append(self._merger_terms(o, first, t))
        if rng.random() < IPO_RATE / REMOVAL_RATE:
            birth = t + int(rng.integers(1, 41))
            if birth < self.nt:
                s = self.o_slot[o]
                new = self._new_occupant(
                    s, birth, 1, multi=bool(rng.random() < MULTI_CLASS_SHARE)
                )
                self.o_xbirth[new] = self._ipo_x()
                self.pending.setdefault(birth, []).append(new)
                self.slot_occ[s] = new

    def _merger_terms(self, target: int, first: int, last: int) -> _Merger:
        rng = self.rng
        u = float(rng.random())
        listed = u >= 0.25
        if u < 0.5:
            cash_weight = 1.0
        elif u < 0.75:
            cash_weight = 0.0
        else:
            cash_weight = float(rng.uniform(0.3, 0.7))
        if self.o_multi[target]:
            cash_weight = 1.0
        acquirer = -1
        if listed:
            ts = self.o_slot[target]
            cands = rng.integers(0, self.n + self.n_children, size=_ATTEMPTS)
            for s in cands.tolist():
                o = self.slot_occ[s]
                if (
                    o < 0
                    or o == target
                    or self.o_end[o] != _END_SURVIVES
                    or self.o_multi[o]
                    or self.o_birth[o] > first - 1
                    or self.lock[o] >= first
                    or self.x[s] >= self.x[ts]
                ):
                    continue
                acquirer = o
                break
        if acquirer < 0:
            cash_weight = 1.0
        else:
            self.lock[acquirer] = last + 1
            self.soft.setdefault(acquirer, []).append((first, last + 1))
            # no other action (dividends included) on the issuance session
            self.used.add(acquirer * self.nt + last + 1)
        return _Merger(
            target=target,
            acquirer=acquirer,
            first=first,
            last=last,
            cash_weight=cash_weight,
            premium=float(rng.uniform(1.15, 1.45)),
            spread=float(rng.uniform(0.01, 0.06)),
        )

    def _spinoff(self, t: int) -> None:
        rng = self.rng
        cands = rng.integers(0, self.n + self.n_children, size=_ATTEMPTS)
        parent = -1
        for s in cands.tolist():
            o = self.slot_occ[s]
            if (
                o < 0
                or self.o_end[o] != _END_SURVIVES
                or self.o_multi[o]
                or self.o_birth[o] > t - _MIN_AGE
                or self.lock[o] >= t
            ):
                continue
            parent = o
            break
        if parent < 0:
            return
        self.lock[parent] = t
        self.used.add(parent * self.nt + t)
        slot = self.n + self.n_children
        self.n_children += 1
        child = self._new_occupant(slot, t, 2, multi=False, parent=parent)
        self.slot_occ[slot] = child
        value_share = float(rng.uniform(0.05, 0.25))
        ratio = float(rng.choice([0.1, 0.2, 0.25, 0.5, 1.0]))
        target_lt = np.interp(self.x[self.o_slot[parent]], self.grid_x, self.grid_lt)
        target_lt += math.log(value_share)
        x0 = float(np.interp(target_lt, self.grid_lt[::-1], self.grid_x[::-1]))
        self.o_xbirth[child] = min(max(x0, 0.0), self.xmax)
        self.x[slot] = self.o_xbirth[child]
        self.spinoffs.append(_Spinoff(parent, child, t, value_share, ratio))

    # -- per-company attributes ---------------------------------------------------

    def _attributes(self) -> None:
        rng = self.rng
        m = len(self.o_slot)
        self.m = m
        origin = np.array(self.o_origin, dtype=np.int64)
        self.a_slot = np.array(self.o_slot, dtype=np.int64)
        self.a_birth = np.array(self.o_birth, dtype=np.int64)
        self.a_origin = origin
        self.a_death = np.array(self.o_death, dtype=np.int64)
        self.a_hard = np.array(self.o_hard, dtype=np.int64)
        self.a_multi = np.array(self.o_multi, dtype=bool)
        self.a_xbirth = np.array(self.o_xbirth)
        self.dev_z = rng.standard_normal(m)
        p0 = np.where(
            origin == 0,
            np.exp(rng.normal(math.log(25.0), 0.8, m)),
            rng.uniform(8.0, 25.0, m),
        )
        penny = rng.random(m) < np.where(origin == 0, PENNY_SHARE, IPO_PENNY_SHARE)
        p0[penny] = np.where(
            origin[penny] == 0,
            rng.uniform(0.3, 0.99, int(penny.sum())),
            rng.uniform(0.3, 1.5, int(penny.sum())),
        )
        self.log_p0 = np.log(p0)
        sector = rng.integers(0, len(SECTORS), m)
        parent = np.array(self.o_parent, dtype=np.int64)
        keep = (parent >= 0) & (rng.random(m) < 0.6)
        sector[keep] = sector[parent[keep]]
        self.sector = sector
        payer = rng.random(m) < DIVIDEND_PAYER_SHARE
        self.quarterly = np.where(payer, rng.uniform(*DIVIDEND_YIELD, m) / 4.0, 0.0)
        self.slope = -np.log1p(-self.quarterly) / QUARTER_SESSIONS
        self.kappa = np.where(self.a_multi, rng.uniform(0.9, 1.05, m), 1.0)
        self.phi_b = np.where(self.a_multi, rng.uniform(0.1, 0.8, m), 0.0)
        self.attached = np.where(
            (origin != 2) & (rng.random(m) < NON_COMMON_SHARE),
            rng.integers(0, len(_NON_COMMON), m),
            -1,
        )
        self.attached_mult = rng.random(m)
        ff = np.clip(rng.beta(6.0, 1.5, m), 0.05, 1.0)
        low = rng.random(m) < LOW_FLOAT_SHARE
        ff[low] = rng.uniform(0.02, 0.15, int(low.sum()))
        self.float0 = ff
        self.float_b = np.clip(rng.beta(6.0, 1.5, m), 0.05, 1.0)
        voting = np.full(m, 100.0)
        low_v = rng.random(m) < LOW_VOTING_SHARE
        voting[low_v] = rng.uniform(1.0, 5.0, int(low_v.sum()))
        self.voting = voting
        self.exchange = rng.choice(np.array(["NYSE", "NASDAQ"]), m)
        self.rename = rng.random(m) < 0.5

    # -- pass 2: corporate actions that do not end a company -----------------------

    def _occupant_at(self, t: int, s: int) -> int:
        """The occupant trading on slot ``s`` at session ``t``, or -1."""
        births = self.slot_births[s]
        k = bisect.bisect_right(births, t) - 1
        if k < 0:
            return -1
        o = self.slot_occupants[s][k]
        return o if self.o_death[o] >= t else -1

    def _free(self, o: int, t: int) -> bool:
        """Whether occupant ``o`` can take a new action on session ``t``."""
        return (
            self.o_birth[o] <= t - 1
            and t <= self.o_death[o]
            and t < self.o_hard[o]
            and (o * self.nt + t) not in self.used
            and not self._in_soft(o, t)
        )

    def _plan_actions(self) -> None:
        self.slot_births: list[list[int]] = [[] for _ in range(self.ns)]
        self.slot_occupants: list[list[int]] = [[] for _ in range(self.ns)]
        for o, s in enumerate(self.o_slot):
            self.slot_births[s].append(self.o_birth[o])
            self.slot_occupants[s].append(o)
        rng = self.rng
        scale = self.scale
        multi = self.o_multi

        def single(o: int, t: int) -> bool:
            return not multi[o]

        def anyone(o: int, t: int) -> bool:
            return True

        def plain(o: int, t: int) -> bool:
            return not multi[o] and self.attached[o] < 0 and o not in self.idchange

        for o, t in self._sample(rng.poisson(STOCK_DIVIDEND_RATE * scale), anyone):
            r = float(rng.choice([1.02, 1.03, 1.05, 1.10]))
            self.events.append(
                _Event(
                    o,
                    t,
                    "stock_dividend",
                    ratio=r,
                    log_price=-math.log(r),
                    share_factor=r,
                )
            )
        for o, t in self._sample(rng.poisson(SPECIAL_DIVIDEND_RATE * scale), anyone):
            q = float(rng.uniform(0.05, 0.20))
            self.events.append(
                _Event(o, t, "special_dividend", size=q, log_price=math.log1p(-q))
            )
        for o, t in self._sample(rng.poisson(RIGHTS_RATE * scale), single):
            r = float(rng.choice([0.1, 0.2, 0.25, 0.5, 1.0]))
            otm = rng.random() < RIGHTS_OUT_OF_MONEY_SHARE
            c = float(rng.uniform(1.1, 1.5) if otm else rng.uniform(0.55, 0.9))
            ev = _Event(o, t, "rights", ratio=r, size=c)
            if not otm:
                ev.log_price = math.log((1 + r * c) / (1 + r))
                ev.share_factor = 1 + r
            self.events.append(ev)
        for _ in range(int(rng.poisson(IDENTIFIER_CHANGE_RATE * scale))):
            # one at a time: `plain` must see the changes already drawn
            for o, t in self._sample(1, plain):
                self.idchange[o] = t
                self.events.append(_Event(o, t, "identifier_change"))
        changes: list[tuple[float, int, int]] = []
        for o, t in self.large_changes:
            if not multi[o] and self._free(o, t):
                self.used.add(o * self.nt + t)
                changes.append((float(rng.uniform(0.05, 0.15)), o, t))
        for o, t in self._sample(self.n_share_changes, single):
            if rng.random() < 0.55:
                changes.append((float(rng.uniform(0.02, 0.25)), o, t))
            else:
                changes.append((-float(rng.uniform(0.02, 0.10)), o, t))
        for x, o, t in changes:
            ev = _Event(o, t, "share_change", share_factor=1 + x)
            ev.new_float = bool(rng.random() < 0.3)
            self.events.append(ev)
            if ev.new_float:
                self.float_events.append((o, t))
        for o, t in self._sample(rng.poisson(FLOAT_CHANGE_RATE * scale), anyone):
            self.float_events.append((o, t))
        self._plan_dividends()

    def _sample(
        self, count: int, accept: Callable[[int, int], bool]
    ) -> list[tuple[int, int]]:
        """Draw ``count`` (occupant, session) pairs, uniform over company-sessions."""
        out: list[tuple[int, int]] = []
        nt, ns, rng = self.nt, self.ns, self.rng
        if nt < 2:
            return out
        for _ in range(int(count)):
            ts = rng.integers(1, nt, size=_ATTEMPTS).tolist()
            ss = rng.integers(0, ns, size=_ATTEMPTS).tolist()
            for t, s in zip(ts, ss, strict=True):
                o = self._occupant_at(t, s)
                if o < 0 or not self._free(o, t) or not accept(o, t):
                    continue
                self.used.add(o * nt + t)
                out.append((o, t))
                break
        return out

    def _plan_dividends(self) -> None:
        nt = self.nt
        payers = np.flatnonzero(self.quarterly > 0)
        first = (
            self.a_birth[payers]
            + 1
            + self.rng.integers(0, QUARTER_SESSIONS, payers.size)
        )
        last = np.minimum(self.a_death[payers], self.a_hard[payers] - 1)
        count = np.maximum(0, (last - first) // QUARTER_SESSIONS + 1)
        o = np.repeat(payers, count)
        starts = np.repeat(np.cumsum(count) - count, count)
        k = np.arange(o.size) - starts
        t = np.repeat(first, count) + QUARTER_SESSIONS * k
        keys = o * nt + t
        used = np.fromiter(self.used, dtype=np.int64, count=len(self.used))
        keep = ~np.isin(keys, used)
        self.div_o, self.div_t = o[keep], t[keep]
        self.used.update(keys[keep].tolist())

    # -- lines ----------------------------------------------------------------------

    def _lines(self) -> None:
        """Number the lines (ids follow listing order) and describe each one."""
        m, n = self.m, self.n
        starts: list[tuple[int, int, int, int]] = []  # (t, slot, kind, o)
        for o in range(m):
            if self.o_origin[o] != 0:
                starts.append((self.o_birth[o], self.o_slot[o], 0, o))
        for o, t in self.idchange.items():
            starts.append((t, self.o_slot[o], 1, o))
        starts.sort()
        num1 = np.zeros(m, dtype=np.int64)
        num2 = np.full(m, -1, dtype=np.int64)
        for o in range(m):
            if self.o_origin[o] == 0:
                num1[o] = self.o_slot[o] + 1
        for k, (_, _, kind, o) in enumerate(starts):
            if kind == 0:
                num1[o] = n + k + 1
            else:
                num2[o] = n + k + 1
        width = max(4, len(str(n + len(starts))))
        # (number, suffix, occupant, kind, first session, last session, attached)
        rows: list[tuple[int, str, int, int, int, int, int]] = []
        for o in range(m):
            first, last = self.o_birth[o], self.o_death[o]
            change = self.idchange.get(o, -1)
            multi = self.o_multi[o]
            seg_last = change - 1 if change >= 0 else last
            rows.append(
                (int(num1[o]), ".A" if multi else "", o, 0, first, seg_last, -1)
            )
            if change >= 0:
                rows.append((int(num2[o]), "", o, 0, change, last, -1))
            if multi:
                rows.append((int(num1[o]), ".B", o, 1, first, last, -1))
            kind = int(self.attached[o])
            if kind >= 0:
                suffix = _NON_COMMON_PRICING[_NON_COMMON[kind][0]][0]
                rows.append((int(num1[o]), suffix, o, 2, first, last, kind))
        rows.sort()
        nl = len(rows)
        self.nl = nl
        ids: list[str] = []
        names: list[str] = []
        types: list[str] = []
        classes: list[str | None] = []
        company: list[str] = []
        line_o = np.empty(nl, dtype=np.int64)
        line_kind = np.empty(nl, dtype=np.uint8)
        t0 = np.empty(nl, dtype=np.int64)
        t1 = np.empty(nl, dtype=np.int64)
        log_mult = np.zeros(nl)
        share_mult = np.ones(nl)
        beta = np.ones(nl)
        noise_sd = np.zeros(nl)
        self.main1 = np.full(m, -1, dtype=np.int64)
        self.main2 = np.full(m, -1, dtype=np.int64)
        self.bline = np.full(m, -1, dtype=np.int64)
        for j, (num, suffix, o, kind, first, last, att) in enumerate(rows):
            base_num = num
            if kind == 0 and num == num2[o] and not self.rename[o]:
                base_num = int(num1[o])
            base = f"Synthetic {base_num:0{width}d} Inc."
            ids.append(f"S{num:0{width}d}{suffix}")
            company.append(f"C{int(num1[o]):0{width}d}")
            line_o[j], line_kind[j], t0[j], t1[j] = o, kind, first, last
            if kind == 0:
                if num == num2[o]:
                    self.main2[o] = j
                else:
                    self.main1[o] = j
                if self.o_multi[o]:
                    names.append(f"{base} Class A Common Stock")
                    types.append("class_share")
                    classes.append("A")
                else:
                    names.append(f"{base} Common Stock")
                    types.append("common")
                    classes.append(None)
            elif kind == 1:
                self.bline[o] = j
                names.append(f"{base} Class B Common Stock")
                types.append("class_share")
                classes.append("B")
                log_mult[j] = math.log(self.kappa[o])
                share_mult[j] = self.phi_b[o]
            else:
                security_type, template = _NON_COMMON[att]
                _, model, lo, hi, sd = _NON_COMMON_PRICING[security_type]
                names.append(template.format(name=base))
                types.append(security_type)
                classes.append(None)
                log_mult[j] = math.log(lo + (hi - lo) * self.attached_mult[o])
                share_mult[j] = math.nan
                beta[j] = 1.0 if model == "prop" else 0.0
                noise_sd[j] = sd
        self.ids = np.array(ids)
        self.enum = pl.Enum(ids)
        # the codes of the panel's security_id: the Enum's physical integer type
        code_type = pl.Series(dtype=self.enum).to_physical().to_numpy().dtype
        self.l_names, self.l_types, self.l_classes = names, types, classes
        self.l_company = company
        self.line_o, self.line_kind, self.t0, self.t1 = line_o, line_kind, t0, t1
        self.line_slot = self.a_slot[line_o]
        self.log_mult, self.share_mult = log_mult, share_mult
        self.beta, self.noise_sd = beta, noise_sd
        # Line numbers follow listing order, so lines sorted by id are sorted by
        # first session: the lines of session t are a filtered prefix.
        nt = self.nt
        born = np.searchsorted(t0, np.arange(nt), side="right")
        parts = [
            np.flatnonzero(t1[: born[t]] >= t).astype(code_type) for t in range(nt)
        ]
        counts = np.array([p.size for p in parts], dtype=np.int64)
        self.row_line = np.concatenate(parts)
        self.row_start = np.concatenate([[0], np.cumsum(counts)])
        self.row_counts = counts

    def _line_at(self, o: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Index of the main line of occupants ``o`` at sessions ``t``."""
        changed = (self.main2[o] >= 0) & (t >= self.t0[np.maximum(self.main2[o], 0)])
        out: np.ndarray = np.where(changed, self.main2[o], self.main1[o])
        return out

    # -- pass 3: prices and shares, streamed into the rows -------------------------

    def _simulate(self) -> None:
        nt, ns, rng = self.nt, self.ns, self.rng
        n_rows = int(self.row_start[-1])
        logc = np.empty(n_rows)
        shares_out = np.empty(n_rows)
        self.row_logc, self.row_shares = logc, shares_out
        x = self.x_init.copy()
        rng_x = self._x_generator()
        dev = np.zeros(ns)
        ramp = np.zeros(ns)
        slope = np.zeros(ns)
        level = np.zeros(ns)
        sh = np.ones(ns)
        sec = np.zeros(ns, dtype=np.int64)
        sig = np.zeros(ns)
        cur = np.full(ns, -1, dtype=np.int64)
        phi = math.exp(-DEV_REVERSION * _DT)
        a_slot = self.a_slot
        cmult = 1.0 + self.kappa * self.phi_b
        sd_stat = 1.0 / math.sqrt(2 * DEV_REVERSION)
        # births (spin-off children are born in the spin-off step)
        born = np.flatnonzero(self.a_origin != 2)
        born = born[np.argsort(self.a_birth[born], kind="stable")]
        b_bounds = np.searchsorted(self.a_birth[born], np.arange(nt + 1))
        ipo_x: dict[int, list[int]] = {}
        for o in np.flatnonzero(self.a_origin == 1).tolist():
            ipo_x.setdefault(self.o_birth[o], []).append(o)
        # relative price and share events (identifier changes move nothing)
        moving = [
            k for k, e in enumerate(self.events) if e.action != "identifier_change"
        ]
        n_div = self.div_o.size
        ev_o = np.concatenate(
            [
                np.array([self.events[k].occupant for k in moving], dtype=np.int64),
                self.div_o,
            ]
        )
        ev_t = np.concatenate(
            [
                np.array([self.events[k].session for k in moving], dtype=np.int64),
                self.div_t,
            ]
        )
        ev_lp = np.concatenate(
            [
                np.array([self.events[k].log_price for k in moving]),
                np.log1p(-self.quarterly[self.div_o]),
            ]
        )
        ev_sf = np.concatenate(
            [np.array([self.events[k].share_factor for k in moving]), np.ones(n_div)]
        )
        ev_ref = np.concatenate(
            [np.array(moving, dtype=np.int64), -1 - np.arange(n_div, dtype=np.int64)]
        )
        order = np.argsort(ev_t, kind="stable")
        ev_o, ev_t, ev_lp, ev_sf = ev_o[order], ev_t[order], ev_lp[order], ev_sf[order]
        ev_ref = ev_ref[order]
        ev_s = a_slot[ev_o]
        e_bounds = np.searchsorted(ev_t, np.arange(nt + 1))
        ev_close = np.empty(ev_t.size)
        ev_prev = np.empty(ev_t.size)
        ev_sh = np.empty(ev_t.size)
        # mergers: terms at the announcement, overrides until the last session
        mgs = self.mergers
        starts_at: dict[int, list[_Merger]] = {}
        ends_at: dict[int, list[_Merger]] = {}
        deltas: dict[int, list[_Merger]] = {}
        for mg in mgs:
            starts_at.setdefault(mg.first, []).append(mg)
            ends_at.setdefault(mg.last, []).append(mg)
            if mg.acquirer >= 0 and mg.cash_weight < 1.0:
                deltas.setdefault(mg.last + 1, []).append(mg)
        mg_ts = np.array([a_slot[mg.target] for mg in mgs], dtype=np.int64)
        mg_as = np.array(
            [a_slot[mg.acquirer] if mg.acquirer >= 0 else 0 for mg in mgs],
            dtype=np.int64,
        )
        mg_first = np.array([mg.first for mg in mgs], dtype=np.int64)
        mg_last = np.array([mg.last for mg in mgs], dtype=np.int64)
        mg_spread = np.array([mg.spread for mg in mgs])
        mg_ratio = np.zeros(len(mgs))
        mg_cash = np.zeros(len(mgs))
        mg_index = {id(mg): k for k, mg in enumerate(mgs)}
        pair_m, m_bounds = _window_pairs(mg_first, mg_last, nt)
        bankrupt = [o for o in range(self.m) if self.o_end[o] == _END_BANKRUPTCY]
        bk_s = a_slot[np.array(bankrupt, dtype=np.int64)]
        bk_first = self.a_hard[np.array(bankrupt, dtype=np.int64)]
        bk_last = self.a_death[np.array(bankrupt, dtype=np.int64)]
        bk_pen = np.log(rng.uniform(0.02, 0.3, len(bankrupt)))
        for o in bankrupt:
            self.removal_price[o] = 0.01 if rng.random() < 0.5 else math.nan
        pair_b, b_pair_bounds = _window_pairs(bk_first, bk_last, nt)
        spins: dict[int, list[_Spinoff]] = {}
        for sp in self.spinoffs:
            spins.setdefault(sp.session, []).append(sp)
        n_splits = rng.poisson(SPLIT_RATE / 1000.0 * self.n * _DT, nt)
        n_splits[0] = 0
        sf, mkt = self.sf, self.mkt
        row_start, row_line, line_slot = self.row_start, self.row_line, self.line_slot
        grid_x, grid_lt = self.grid_x, self.grid_lt
        prev = np.zeros(ns)
        eps = eps_x = np.empty((0, ns))
        for t in range(nt):
            if t % _CHUNK == 0:
                size = min(_CHUNK, nt - t)
                eps_x = rng_x.standard_normal((size, ns))
                eps = rng.standard_normal((size, ns))
            # rank process, replayed exactly as in the lifecycle pass
            if t > 0:
                self._x_step(x, eps_x[t % _CHUNK])
            for o in ipo_x.get(t, ()):
                x[self.o_slot[o]] = self.o_xbirth[o]
            for sp in spins.get(t, ()):
                x[self.o_slot[sp.child]] = self.o_xbirth[sp.child]
            lt = np.interp(x, grid_x, grid_lt)
            if t % 21 == 0:
                sig = self._dev_sigma(lt) * math.sqrt(_DT)
            dev *= phi
            dev += sig * eps[t % _CHUNK]
            b0, b1 = b_bounds[t], b_bounds[t + 1]
            if b1 > b0:
                o_b = born[b0:b1]
                s_b = a_slot[o_b]
                z = self.dev_z[o_b]
                d = np.where(
                    self.a_origin[o_b] == 0,
                    z * self._dev_sigma(lt[s_b]) * sd_stat,
                    z * IPO_DEVIATION,
                )
                dev[s_b] = d
                ramp[s_b] = 0.0
                slope[s_b] = self.slope[o_b]
                sec[s_b] = self.sector[o_b]
                cur[s_b] = o_b
                logcap = lt[s_b] + d + mkt[t] + sf[t, self.sector[o_b]]
                level[s_b] = self.log_p0[o_b] - logcap
                sh[s_b] = np.exp(logcap - self.log_p0[o_b]) / cmult[o_b]
            ramp += slope
            e0, e1 = e_bounds[t], e_bounds[t + 1]
            if e1 > e0:
                s_e = ev_s[e0:e1]
                level[s_e] += ev_lp[e0:e1]
                sh[s_e] *= ev_sf[e0:e1]
            for mg in deltas.get(t, ()):
                sh[a_slot[mg.acquirer]] += mg.target_shares * mg.ratio
            if n_splits[t]:
                self._split(t, int(n_splits[t]), prev, cur, level, sh)
            for sp in spins.get(t, ()):
                ps, cs = a_slot[sp.parent], a_slot[sp.child]
                parent_logcap = (
                    lt[ps]
                    + dev[ps]
                    + ramp[ps]
                    + level[ps]
                    + mkt[t]
                    + sf[t, sec[ps]]
                    + math.log(sh[ps])
                )
                c = sp.child
                sh_c = sh[ps] * sp.ratio
                sec[cs] = self.sector[c]
                dev[cs] = (
                    math.log(sp.value_share)
                    + parent_logcap
                    - (lt[cs] + mkt[t] + sf[t, sec[cs]])
                )
                ramp[cs] = 0.0
                slope[cs] = self.slope[c]
                level[cs] = -math.log(sh_c)
                sh[cs] = sh_c
                cur[cs] = c
                level[ps] += math.log1p(-sp.value_share)
            row = lt
            row += dev
            row += ramp
            row += level
            row += mkt[t]
            row += sf[t][sec]
            for mg in starts_at.get(t, ()):
                value = mg.premium * math.exp(prev[a_slot[mg.target]])
                mg.cash = mg.cash_weight * value
                if mg.acquirer >= 0 and mg.cash_weight < 1.0:
                    price = math.exp(prev[a_slot[mg.acquirer]])
                    mg.ratio = (1.0 - mg.cash_weight) * value / price
                k = mg_index[id(mg)]
                mg_ratio[k], mg_cash[k] = mg.ratio, mg.cash
            out = row.copy()
            p0, p1 = m_bounds[t], m_bounds[t + 1]
            if p1 > p0:
                ms = pair_m[p0:p1]
                left = (mg_last[ms] - t) / (mg_last[ms] - mg_first[ms] + 1)
                terms = mg_cash[ms] + np.exp(row[mg_as[ms]]) * mg_ratio[ms]
                noise = rng.normal(0.0, 0.002, ms.size) * (left > 0)
                out[mg_ts[ms]] = np.log(terms * (1.0 - mg_spread[ms] * left)) + noise
            p0, p1 = b_pair_bounds[t], b_pair_bounds[t + 1]
            if p1 > p0:
                ks = pair_b[p0:p1]
                w = ((t - bk_first[ks] + 1) / (bk_last[ks] - bk_first[ks] + 1)) ** 1.5
                out[bk_s[ks]] = (1.0 - w) * row[bk_s[ks]] + w * bk_pen[ks]
            r0, r1 = row_start[t], row_start[t + 1]
            s_r = line_slot[row_line[r0:r1]]
            logc[r0:r1] = out[s_r]
            shares_out[r0:r1] = sh[s_r]
            if e1 > e0:
                ev_close[e0:e1] = out[s_e]
                ev_prev[e0:e1] = prev[s_e]
                ev_sh[e0:e1] = sh[s_e]
            for sp in spins.get(t, ()):
                sp.child_close = math.exp(out[a_slot[sp.child]])
            for mg in ends_at.get(t, ()):
                mg.target_shares = float(sh[a_slot[mg.target]])
            prev = out
        # recorded values for the action rows
        for k in range(ev_ref.size):
            ref = int(ev_ref[k])
            if ref >= 0:
                ev = self.events[ref]
                ev.log_close, ev.log_prev, ev.shares = ev_close[k], ev_prev[k], ev_sh[k]
        is_div = ev_ref < 0
        div_close = np.empty(n_div)
        div_close[-1 - ev_ref[is_div]] = ev_close[is_div]
        self.div_log_close = div_close

    def _split(
        self,
        t: int,
        count: int,
        prev: np.ndarray,
        cur: np.ndarray,
        level: np.ndarray,
        sh: np.ndarray,
    ) -> None:
        rng = self.rng
        has = cur >= 0
        o_all = np.where(has, cur, 0)
        alive = (
            has
            & (self.a_birth[o_all] <= t - 1)
            & (self.a_death[o_all] >= t)
            & (self.a_hard[o_all] > t)
        )
        if not alive.any():
            return
        price = np.exp(prev)
        for _ in range(count):
            reverse = bool(rng.random() < REVERSE_SPLIT_SHARE)
            cands = np.flatnonzero(alive & (price < 1.0)) if reverse else np.empty(0)
            if cands.size == 0:
                reverse = False
                cut = np.quantile(price[alive], 0.9)
                cands = np.flatnonzero(alive & (price >= cut))
            for s in rng.permutation(cands)[:_ATTEMPTS].tolist():
                o = int(cur[s])
                if not self._free(o, t):
                    continue
                ratio = 0.1 if reverse else float(rng.choice([2.0, 2.0, 2.0, 3.0, 1.5]))
                level[s] -= math.log(ratio)
                sh[s] *= ratio
                self.used.add(o * self.nt + t)
                self.splits.append((o, t, ratio))
                alive[s] = False
                break

    # -- frames ---------------------------------------------------------------------

    def _panel(self) -> pl.DataFrame:
        """The rows in typed form (:attr:`SyntheticMarket.panel`).

        Built in place from the simulation's long arrays: no string column, no
        market cap (see :func:`market_rows`).
        """
        rng = self.rng
        j = self.row_line
        logc, shares = self.row_logc, self.row_shares
        del self.row_logc, self.row_shares
        derived = np.flatnonzero(self.line_kind[j] != 0)
        jd = j[derived]
        logc[derived] *= self.beta[jd]
        logc[derived] += self.log_mult[jd]
        shares[derived] *= self.share_mult[jd]
        extra = np.flatnonzero(self.noise_sd[jd] > 0)
        logc[derived[extra]] += (
            rng.standard_normal(extra.size) * self.noise_sd[jd[extra]]
        )
        del derived, jd, extra
        close = np.exp(logc, out=logc)
        volume = np.empty(j.size, dtype=np.int64)
        block = 1 << 22
        for lo in range(0, j.size, block):
            hi = min(lo + block, j.size)
            noise = rng.standard_normal(hi - lo, dtype=np.float32)
            noise *= np.float32(VOLUME_NOISE)
            noise -= np.float32(0.5 * VOLUME_NOISE**2)
            part = shares[lo:hi] * TURNOVER
            np.copyto(part, 2e4, where=np.isnan(part))
            part *= np.exp(noise)
            volume[lo:hi] = np.rint(part)
        session = pl.Series("session", np.repeat(self.days, self.row_counts))
        columns = [
            session.cast(pl.Date),
            pl.Series("security_id", j).cat.to(self.enum),
            pl.Series("close", close),
            pl.Series("volume", volume),
            pl.Series("shares_outstanding", shares, nan_to_null=True),
        ]
        del self.row_line, j, close, logc, volume, shares, session
        return pl.DataFrame(columns)

    def _securities_frame(self) -> pl.DataFrame:
        o = self.line_o
        frame = pl.DataFrame(
            {
                "security_id": self.ids.tolist(),
                "ticker": self.ids.tolist(),
                "name": self.l_names,
                "company_id": self.l_company,
                "share_class": self.l_classes,
                "security_type": self.l_types,
                "exchange": self.exchange[o].tolist(),
                "country": ["US"] * self.nl,
                "sector": [SECTORS[k] for k in self.sector[o].tolist()],
            },
            schema=schemas.SECURITIES,
        )
        return frame.sort("security_id")

    def _voting_frame(self) -> pl.DataFrame:
        equity = np.flatnonzero(self.line_kind != 2)
        return pl.DataFrame(
            {
                "security_id": self.ids[equity].tolist(),
                "voting_rights_pct": self.voting[self.line_o[equity]],
            },
            schema=VOTING,
        ).sort("security_id")

    def _float_frame(self) -> pl.DataFrame:
        rng = self.rng
        lines: list[int] = []
        as_of: list[int] = []
        value: list[float] = []
        for o in range(self.m):
            lines.append(int(self.main1[o]))
            as_of.append(self.o_birth[o])
            value.append(float(self.float0[o]))
            if self.bline[o] >= 0:
                lines.append(int(self.bline[o]))
                as_of.append(self.o_birth[o])
                value.append(float(self.float_b[o]))
        events = sorted(
            [(o, t, 0) for o, t in self.float_events]
            + [(o, t, 1) for o, t in self.idchange.items()]
        )
        current = self.float0.copy()
        self.new_float: dict[tuple[int, int], float] = {}
        for o, t, kind in events:
            if kind == 0:
                step = math.exp(rng.normal(0.0, 0.15))
                current[o] = float(np.clip(current[o] * step, 0.01, 1.0))
                self.new_float[(o, t)] = float(current[o])
                line = int(self._line_at(np.array([o]), np.array([t]))[0])
            else:
                line = int(self.main2[o])
            lines.append(line)
            as_of.append(t)
            value.append(float(current[o]))
        frame = pl.DataFrame(
            {
                "security_id": self.ids[np.array(lines, dtype=np.int64)].tolist(),
                "as_of": self.days[np.array(as_of, dtype=np.int64)],
                "float_factor": value,
                "source": ["data"] * len(lines),
            },
            schema=dict(schemas.FLOAT_FACTORS) | {"as_of": pl.Int32},
        ).with_columns(pl.col("as_of").cast(pl.Date))
        return frame.sort("as_of", "security_id")

    def _actions_frame(self) -> pl.DataFrame:
        schema = pl.Schema(schemas.CORPORATE_ACTIONS)
        schema["ex_date"] = pl.Int32  # dates as day numbers until the end
        cols: dict[str, list[object]] = {k: [] for k in schema}

        def add(
            line: int,
            t: int,
            action: str,
            ratio: float | None = None,
            amount: float | None = None,
            other: int = -1,
            shares: float | None = None,
            ff: float | None = None,
        ) -> None:
            cols["security_id"].append(str(self.ids[line]))
            cols["ex_date"].append(int(self.days[t]))
            cols["action"].append(action)
            cols["ratio"].append(ratio)
            cols["amount"].append(amount)
            cols["other_id"].append(str(self.ids[other]) if other >= 0 else None)
            cols["shares_outstanding"].append(shares)
            cols["float_factor"].append(ff)
            cols["source"].append(_SOURCE)

        def main(o: int, t: int) -> int:
            return int(self._line_at(np.array([o]), np.array([t]))[0])

        def both(
            o: int, t: int, action: str, ratio: float | None, amount: float | None
        ) -> None:
            add(main(o, t), t, action, ratio, amount)
            if self.bline[o] >= 0:
                kappa = float(self.kappa[o])
                scaled = None if amount is None else amount * kappa
                add(int(self.bline[o]), t, action, ratio, scaled)

        for o, t, r in self.splits:
            both(o, t, "split", r, None)
        for ev in self.events:
            o, t = ev.occupant, ev.session
            if ev.action == "stock_dividend":
                both(o, t, "stock_dividend", ev.ratio, None)
            elif ev.action == "special_dividend":
                q = ev.size
                both(
                    o, t, "special_dividend", None, math.exp(ev.log_close) * q / (1 - q)
                )
            elif ev.action == "rights":
                add(main(o, t), t, "rights", ev.ratio, math.exp(ev.log_prev) * ev.size)
            elif ev.action == "identifier_change":
                add(
                    int(self.main1[o]), t, "identifier_change", other=int(self.main2[o])
                )
            elif ev.action == "share_change":
                add(
                    main(o, t),
                    t,
                    "share_change",
                    amount=math.exp(ev.log_close),
                    shares=float(ev.shares),
                    ff=self.new_float.get((o, t)) if ev.new_float else None,
                )
        for sp in self.spinoffs:
            t = sp.session
            amount = None if self.rng.random() < 0.3 else sp.child_close
            child = int(self.main1[sp.child])
            add(main(sp.parent, t), t, "spinoff", sp.ratio, amount, other=child)
        for mg in self.mergers:
            o, t = mg.target, mg.last
            other = main(mg.acquirer, t) if mg.acquirer >= 0 else -1
            amount = mg.cash if mg.cash_weight > 0 else None
            add(main(o, t), t, "merger", mg.ratio, amount, other=other)
            if self.bline[o] >= 0:
                add(
                    int(self.bline[o]),
                    t,
                    "merger",
                    0.0,
                    mg.cash * float(self.kappa[o]),
                    other=other,
                )
        for o in range(self.m):
            end = self.o_end[o]
            if end in (_END_DELISTING, _END_BANKRUPTCY):
                price = self.removal_price.get(o, math.nan)
                removal = None if math.isnan(price) else price
                both(o, self.o_death[o], _END_NAMES[end], None, removal)
        rest = pl.DataFrame(cols, schema=schema)
        # cash dividends, vectorised
        o_d, t_d = self.div_o, self.div_t
        q_d = self.quarterly[o_d]
        div_amount = np.exp(self.div_log_close) * q_d / (1 - q_d)
        multi = self.bline[o_d] >= 0
        dividends = pl.DataFrame(
            {
                "security_id": self.ids[
                    np.concatenate([self._line_at(o_d, t_d), self.bline[o_d][multi]])
                ].tolist(),
                "ex_date": self.days[np.concatenate([t_d, t_d[multi]])],
                "amount": np.concatenate(
                    [div_amount, div_amount[multi] * self.kappa[o_d][multi]]
                ),
            },
            schema={
                "security_id": pl.String,
                "ex_date": pl.Int32,
                "amount": pl.Float64,
            },
        ).with_columns(
            action=pl.lit("cash_dividend"),
            ratio=pl.lit(None, dtype=pl.Float64),
            other_id=pl.lit(None, dtype=pl.String),
            shares_outstanding=pl.lit(None, dtype=pl.Float64),
            float_factor=pl.lit(None, dtype=pl.Float64),
            source=pl.lit(_SOURCE),
        )
        frame = (
            pl.concat([rest, dividends.select(rest.columns)])
            .with_columns(pl.col("ex_date").cast(pl.Date))
            .sort("ex_date", "security_id", "action")
        )
        return schemas.check_schema(
            frame, schemas.CORPORATE_ACTIONS, source="synthetic"
        )


def _window_pairs(
    first: np.ndarray, last: np.ndarray, n_sessions: int
) -> tuple[np.ndarray, np.ndarray]:
    """Expand windows into (session, window) pairs sorted by session.

    Returns the window index of each pair and the pair bounds of every session.
    """
    length = np.maximum(last - first + 1, 0)
    window = np.repeat(np.arange(first.size, dtype=np.int64), length)
    offset = np.arange(window.size) - np.repeat(np.cumsum(length) - length, length)
    session = np.repeat(first, length) + offset
    order = np.argsort(session, kind="stable")
    bounds = np.searchsorted(session[order], np.arange(n_sessions + 1))
    return window[order], bounds


def _empty(seed: int) -> SyntheticMarket:
    return SyntheticMarket(
        panel=pl.DataFrame(schema=PANEL),
        securities=pl.DataFrame(schema=schemas.SECURITIES),
        float_factors=pl.DataFrame(schema=schemas.FLOAT_FACTORS),
        voting=pl.DataFrame(schema=VOTING),
        actions=pl.DataFrame(schema=schemas.CORPORATE_ACTIONS),
        seed=seed,
    )
