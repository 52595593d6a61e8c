r"""``r2k fund simulate``: an index fund run against r2k's own index.

:func:`register` adds the ``fund`` group to a Typer app (``r2k.cli.app`` calls
it)::

    r2k fund simulate --data DIR --index r2000 --start 2026-01-02 --end 2026-06-26 \
        --aum 1e9 --method sampling --names 600 --out fund/

The work is :mod:`r2k.workflows.fund`; every formula, setting and default is in
docs/funds.md ("Fund simulation"). Arguments and the output folder are checked
before anything is computed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path  # noqa: TC003  # Typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer

from r2k._typing import FUND_METHODS
from r2k.cli.options import (
    CompaniesOpt,
    DataOpt,
    FamilyIndexOpt,
    JsonOpt,
    SeedOpt,
    SyntheticOpt,
    index_code,
    one_market,
    out,
    parse_date,
    progress,
)

if TYPE_CHECKING:
    from r2k._typing import FundMethod
    from r2k.funds.costs import CostSettings
    from r2k.funds.simulation import FundSettings
    from r2k.workflows.fund import FundRun

__all__ = ["fund_app", "register"]

fund_app = typer.Typer(
    help="Index funds run against r2k's own index.", no_args_is_help=True
)


def _method(value: str) -> FundMethod:
    for name in FUND_METHODS:
        if value.lower() == name:
            return name
    msg = f"--method {value!r}: use one of {', '.join(FUND_METHODS)}"
    raise typer.BadParameter(msg)


def _half_spreads(value: str) -> tuple[float, float, float, float]:
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4:
        msg = (
            f"--half-spread-bps {value!r}: give four numbers, large,mid,small,micro "
            "(e.g. 2,5,10,25)"
        )
        raise typer.BadParameter(msg)
    return parts[0], parts[1], parts[2], parts[3]


def _settings(
    method: FundMethod, names: int, aum: float, costs: CostSettings, **rest: object
) -> FundSettings:
    from r2k.funds.simulation import FundSettings

    try:
        return FundSettings(method=method, names=names, aum=aum, costs=costs, **rest)  # type: ignore[arg-type]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _costs(
    commission: float, half_spread: str, impact: float, adv_window: int
) -> CostSettings:
    from r2k.funds.costs import CostSettings

    try:
        return CostSettings(
            commission_bps=commission,
            half_spread_bps=_half_spreads(half_spread),
            impact_bps=impact,
            adv_window=adv_window,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3%}"


def _print(run: FundRun, folder: Path) -> None:
    s = run.summary
    t = s["tracking"]
    out.print(
        f"{s['index_name']} fund ({s['method']}"
        + (f", {s['names']} names" if s["names"] else "")
        + f"), {s['source']} data, {s['start']} .. {s['end']} "
        f"({t['sessions']} sessions)"
    )
    out.print(
        f"tracking error {_percent(t['tracking_error'])} a year; tracking difference "
        f"{_percent(t['tracking_difference'])} (fund {_percent(t['fund_return'])}, "
        f"index {_percent(t['index_return'])})"
    )
    out.print(
        f"turnover {_percent(t['turnover_annualized'])} a year; costs "
        f"{t['costs_bps_per_year']:.1f} bp a year (commission "
        f"{t['commission_bps_per_year']:.1f}, spread {t['spread_bps_per_year']:.1f}, "
        f"impact {t['impact_bps_per_year']:.1f}); mean cash "
        f"{_percent(t['mean_cash_weight'])}"
    )
    against = s.get("against_full_replication")
    if against:
        out.print(
            f"against full replication: tracking error "
            f"{_percent(against['tracking_error'])}, tracking difference "
            f"{_percent(against['tracking_difference'])}"
        )
    for row in s.get("proof", {}).get("files", []):
        out.print(
            f"IWM {row['date']}: active share {_percent(row['active_share'])}, "
            f"{row['lines_differ']} lines differ ({row['lines_only_fund']} only in "
            f"the fund, {row['lines_only_iwm']} only in IWM)"
        )
    out.print(f"written to {folder}: nav.csv, summary.json, holdings/")


def register(app: typer.Typer) -> None:
    """Add the ``fund`` group to ``app``."""
    app.add_typer(fund_app, name="fund")


@fund_app.command("simulate")
def simulate_cmd(
    start: Annotated[str, typer.Option("--start", help="Launch session (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last session (YYYY-MM-DD).")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for nav.csv, summary.json, holdings/.")
    ],
    data: DataOpt = None,
    index: FamilyIndexOpt = "r2000",
    aum: Annotated[float, typer.Option("--aum", help="Assets at launch, USD.")] = 1e9,
    method: Annotated[
        str, typer.Option("--method", help="full, sampling or optimized.")
    ] = "full",
    names: Annotated[
        int,
        typer.Option("--names", help="Lines held by sampling and optimized."),
    ] = 600,
    commission_bps: Annotated[
        float, typer.Option("--commission-bps", help="Commission, bp of notional.")
    ] = 1.0,
    half_spread_bps: Annotated[
        str,
        typer.Option(
            "--half-spread-bps",
            help="Half-spread by size class large,mid,small,micro (bp).",
        ),
    ] = "2,5,10,25",
    impact_bps: Annotated[
        float,
        typer.Option(
            "--impact-bps", help="Impact coefficient: bp x sqrt(order / ADV)."
        ),
    ] = 100.0,
    adv_window: Annotated[
        int, typer.Option("--adv-window", help="Sessions in the median ADV.")
    ] = 60,
    cash_buffer: Annotated[
        float, typer.Option("--cash-buffer", help="Target cash, fraction of assets.")
    ] = 0.0,
    drift_band: Annotated[
        float,
        typer.Option(
            "--drift-band", help="Trade a line off its target by more than this."
        ),
    ] = 0.0025,
    fractional: Annotated[
        bool, typer.Option("--fractional", help="Fractional shares (default whole).")
    ] = False,
    flows: Annotated[
        Path | None,
        typer.Option("--flows", help="CSV date,flow_usd (subscriptions > 0)."),
    ] = None,
    synthetic: SyntheticOpt = False,
    companies: CompaniesOpt = 3400,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Simulate an index fund: NAV, tracking, turnover, costs and holdings files."""
    from r2k.data.sources.flows import read_flows
    from r2k.errors import SourceFormatError
    from r2k.workflows.fund import (
        check_fund_output,
        flows_for,
        load_real,
        load_synthetic,
        run_fund,
        write_fund,
    )

    one_market(synthetic=synthetic, data=data)
    first = parse_date(start, "--start")
    last = parse_date(end, "--end")
    if last <= first:
        msg = f"--end {last} must be after --start {first}"
        raise typer.BadParameter(msg)
    code = index_code(index)
    chosen = _method(method)
    costs = _costs(commission_bps, half_spread_bps, impact_bps, adv_window)
    settings = _settings(
        chosen,
        names,
        aum,
        costs,
        cash_buffer=cash_buffer,
        drift_band=drift_band,
        whole_shares=not fractional,
    )
    check_fund_output(out_dir)
    flow_frame = read_flows(flows) if flows is not None else None
    if flow_frame is not None:
        outside = flow_frame.filter(
            (flow_frame["date"] < first) | (flow_frame["date"] > last)
        )
        if outside.height:
            msg = (
                f"{flows}: flow dated {outside.item(0, 'date')} is outside the "
                f"window {first} .. {last}"
            )
            raise SourceFormatError(msg)
    with progress(f"calculating {code} and simulating the fund ..."):
        if synthetic:
            inputs = load_synthetic(companies, seed, code, first, last, settings)
        else:
            from r2k.data.datadir import DataDir

            inputs = load_real(DataDir.resolve(data), code, first, last, settings)
        amounts = (
            flows_for(flow_frame, inputs.path.sessions, str(flows))
            if flow_frame is not None
            else None
        )
        try:
            run = run_fund(inputs, settings, flows=amounts)
        except ValueError as exc:  # a redemption larger than the fund
            if flows is None:
                raise
            raise SourceFormatError(f"{flows}: {exc}") from None
        write_fund(run, out_dir)
    if as_json:
        out.print_json(json.dumps({**run.summary, "out": str(out_dir)}, default=str))
        return
    _print(run, out_dir)
