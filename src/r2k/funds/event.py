"""The reconstitution effect: an event study of the lines that change index.

For each line and session ``t``, the abnormal return is the line's close-to-close
return less the benchmark's: ``AR_t = r_t - r_bench_t``. The cumulative abnormal
return over a window is ``CAR = sum AR_t`` over its sessions. Windows (sessions
counted on the line's own panel rows):

* ``rank_to_effective``: after the rank day's close to the effective date's close
  (the announcement and the run-up to the trade);
* ``effective_day``: the effective date alone;
* ``post_20``: the 20 sessions after the effective date (the reversal, if any),
  or as many as the data hold (``post_sessions_used`` in each line);
* ``rank_to_post_20``: the whole span.

:func:`car_paths` gives the path session by session: per kind of change, the mean
CAR of its lines from the rank day to each session, and the cross-sectional
standard deviation of those CARs (``ddof = 1``), so a chart can show where the
run-up happens (before or after the preliminary lists) and how wide it is.

Daily moves beyond :data:`MAX_DAILY_MOVE` are dropped (unadjusted splits). Per
kind of change: number of lines, mean, median, standard deviation and
standard error of the mean of each CAR, and the t statistic of the mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import polars as pl

from r2k.errors import InputError

if TYPE_CHECKING:
    from datetime import date

__all__ = ["POST_SESSIONS", "car_paths", "event_study"]

POST_SESSIONS: Final = 20
MAX_DAILY_MOVE: Final = 0.5
"""Daily returns beyond +-50% are dropped: on raw (unadjusted) prices they are
mostly splits and reverse splits, not returns."""


def event_study(
    market: pl.DataFrame,
    events: pl.DataFrame,
    benchmark: pl.DataFrame,
    *,
    rank_day: date,
    effective: date,
    post_sessions: int = POST_SESSIONS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-line CARs and their summary by kind.

    ``market``: ``session, security_id, close``; ``events``: ``security_id,
    change``; ``benchmark``: ``session, benchmark_return`` (daily). Returns
    ``(lines, summary)``.
    """
    returns = _abnormal_returns(
        market,
        events,
        benchmark,
        rank_day=rank_day,
        effective=effective,
        post_sessions=post_sessions,
    )
    windows = {
        "rank_to_effective": (pl.col("session") <= effective),
        "effective_day": (pl.col("session") == effective),
        "post_20": (pl.col("session") > effective),
        "rank_to_post_20": pl.lit(value=True),
    }
    lines = (
        returns.group_by("security_id")
        .agg(
            sessions=pl.col("ar").drop_nulls().len(),
            post_sessions_used=pl.col("ar").filter(pl.col("session") > effective).len(),
            **{name: pl.col("ar").filter(w).sum() for name, w in windows.items()},
        )
        .join(events.select("security_id", "change"), on="security_id")
        .sort("change", "security_id")
    )
    summary = (
        lines.group_by("change")
        .agg(
            pl.len().alias("n"),
            *[
                expr
                for name in windows
                for expr in (
                    pl.col(name).mean().alias(f"{name}_mean"),
                    pl.col(name).median().alias(f"{name}_median"),
                    pl.col(name).std().alias(f"{name}_std"),
                )
            ],
        )
        .with_columns(
            *[
                (
                    pl.col(f"{name}_mean")
                    / (pl.col(f"{name}_std") / pl.col("n").cast(pl.Float64).sqrt())
                ).alias(f"{name}_t")
                for name in windows
            ]
        )
        .sort("change")
    )
    return lines, summary


def _abnormal_returns(
    market: pl.DataFrame,
    events: pl.DataFrame,
    benchmark: pl.DataFrame,
    *,
    rank_day: date,
    effective: date,
    post_sessions: int,
) -> pl.DataFrame:
    """``security_id, session, ret, benchmark_return, ar`` from the rank day on."""
    sessions = market.get_column("session").unique().sort()
    after = sessions.filter(sessions > effective).head(post_sessions)
    if after.len() == 0:
        msg = f"the data hold no session after {effective}; the study needs one"
        raise InputError(msg)
    end = after[-1]
    return (
        market.filter(
            pl.col("security_id").is_in(events["security_id"].implode())
            & (pl.col("session") >= rank_day)
            & (pl.col("session") <= end)
        )
        .sort("security_id", "session")
        .with_columns(
            ret=pl.col("close") / pl.col("close").shift(1).over("security_id") - 1
        )
        .filter(pl.col("session") > rank_day)
        .with_columns(
            ret=pl.when(pl.col("ret").abs() <= MAX_DAILY_MOVE).then(pl.col("ret"))
        )
        .join(benchmark, on="session", how="left")
        .with_columns(ar=pl.col("ret") - pl.col("benchmark_return"))
    )


def car_paths(
    market: pl.DataFrame,
    events: pl.DataFrame,
    benchmark: pl.DataFrame,
    *,
    rank_day: date,
    effective: date,
    post_sessions: int = POST_SESSIONS,
) -> pl.DataFrame:
    """Mean cumulative abnormal return by kind of change, session by session.

    Same inputs as :func:`event_study`. Returns ``change, session, n, car_mean,
    car_std`` (``car_std``: standard deviation across the kind's lines of their
    CAR to that session, ``ddof = 1``). Every line of the study counts on every
    session: a session without its return (it did not trade, or stopped trading)
    adds an abnormal return of 0 to its running sum, so the last session's mean is
    :func:`event_study`'s ``rank_to_post_20_mean``.

    Examples
    --------
    >>> from datetime import date, timedelta
    >>> days = [date(2026, 1, 1) + timedelta(days=i) for i in range(4)]
    >>> market = pl.DataFrame({"session": days * 2,
    ...                        "security_id": ["A"] * 4 + ["B"] * 4,
    ...                        "close": [100.0, 110, 110, 110, 100, 100, 90, 90]})
    >>> bench = pl.DataFrame({"session": days, "benchmark_return": [0.0] * 4})
    >>> events = pl.DataFrame({"security_id": ["A", "B"], "change": ["add", "add"]})
    >>> car_paths(market, events, bench, rank_day=days[0], effective=days[2],
    ...           post_sessions=1)["car_mean"].round(4).to_list()
    [0.05, 0.0, 0.0]
    """
    returns = _abnormal_returns(
        market,
        events,
        benchmark,
        rank_day=rank_day,
        effective=effective,
        post_sessions=post_sessions,
    )
    grid = (
        returns.select("security_id")
        .unique()
        .join(returns.select("session").unique(), how="cross")
        .join(
            returns.select("security_id", "session", "ar"),
            on=["security_id", "session"],
            how="left",
        )
    )
    return (
        grid.join(events.select("security_id", "change"), on="security_id")
        .sort("security_id", "session")
        .with_columns(car=pl.col("ar").fill_null(0.0).cum_sum().over("security_id"))
        .group_by("change", "session")
        .agg(
            n=pl.len(),
            car_mean=pl.col("car").mean(),
            car_std=pl.col("car").std(ddof=1),
        )
        .sort("change", "session")
    )
