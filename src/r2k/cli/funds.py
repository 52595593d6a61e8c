"""``r2k preview``, ``r2k validate preview`` and ``r2k recon-effect``.

:func:`register` adds them to the Typer apps (``r2k.cli.app`` calls it). The work
is :mod:`r2k.workflows.preview`; definitions in docs/funds.md.
"""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003  # Typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from r2k.cli.options import (
    CompaniesOpt,
    DataOpt,
    JsonOpt,
    SeedOpt,
    SyntheticOpt,
    one_market,
    out,
    parse_date,
    progress,
)

if TYPE_CHECKING:
    from r2k.workflows.preview import Preview

__all__ = ["register"]

RankDayOpt = Annotated[
    str, typer.Option("--rank-day", help="Rank day of the reconstitution (YYYY-MM-DD).")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Last day whose prices and volumes the preview may read "
        "(default: the rank day); before the effective date.",
        show_default=False,
    ),
]


def _print_preview(preview: Preview, top: int) -> None:
    totals = preview.totals
    out.print(
        f"Reconstitution preview: rank day {preview.rank_day}, effective "
        f"{preview.effective_date}, as of {preview.as_of}"
    )
    counts = totals["counts"]
    assert isinstance(counts, dict)
    out.print(", ".join(f"{k} {v:,}" for k, v in counts.items()))
    out.print(
        f"one-way turnover {float(totals['one_way_turnover']):.2%}; "  # type: ignore[arg-type]
        f"buy ${float(totals['buy_usd']) / 1e9:,.2f}bn, "  # type: ignore[arg-type]
        f"sell ${float(totals['sell_usd']) / 1e9:,.2f}bn"  # type: ignore[arg-type]
    )
    table = Table(title=f"Most at risk (largest days of volume, top {top})")
    for column in ("security_id", "change", "demand $M", "ADV", "days"):
        table.add_column(
            column, justify="left" if column in {"security_id", "change"} else "right"
        )
    at_risk = totals["at_risk"]
    assert isinstance(at_risk, list)
    for row in at_risk[:top]:
        table.add_row(
            row["security_id"],
            row["change"],
            f"{row['demand_usd'] / 1e6:,.1f}",
            f"{row['adv_shares']:,.0f}",
            f"{row['days_of_volume']:,.1f}",
        )
    out.print(table)
    for note in preview.notes:
        out.print(f"note: {note}")


def register(app: typer.Typer, validate_app: typer.Typer) -> None:
    """Add the fund commands to ``app`` and ``validate preview`` to ``validate_app``."""

    @app.command("preview")
    def preview_cmd(
        rank_day: RankDayOpt,
        data: DataOpt = None,
        as_of: AsOfOpt = None,
        passive_aum: Annotated[
            float | None,
            typer.Option(
                "--passive-aum",
                min=0.0,
                help="USD tracking the Russell 2000 passively (default: IWM's net "
                "assets x 4; docs/funds.md).",
                show_default=False,
            ),
        ] = None,
        passive_aum_r1000: Annotated[
            float | None,
            typer.Option(
                "--passive-aum-r1000",
                min=0.0,
                help="USD tracking the Russell 1000 passively (default 700e9).",
                show_default=False,
            ),
        ] = None,
        adv_window: Annotated[
            int,
            typer.Option("--adv-window", min=1, help="Sessions in the median ADV."),
        ] = 60,
        out_path: Annotated[
            Path | None, typer.Option("--out", help="Write the rows to this CSV.")
        ] = None,
        top: Annotated[
            int, typer.Option("--top", min=0, help="Names at risk shown.")
        ] = 20,
        synthetic: SyntheticOpt = False,
        companies: CompaniesOpt = 3600,
        seed: SeedOpt = 0,
        as_json: JsonOpt = False,
    ) -> None:
        """Preview the funds' trade at a reconstitution: demand and days of volume."""
        from r2k.data.datadir import DataDir
        from r2k.workflows.preview import run_preview, synthetic_preview

        one_market(synthetic=synthetic, data=data)
        day = parse_date(rank_day, "--rank-day")
        as_of_day = parse_date(as_of, "--as-of") if as_of else None
        if out_path is not None:  # before any work
            from r2k.data.files import check_output_path

            check_output_path(out_path, ("csv",), parents=True)
        with progress("reconstituting and previewing"):
            if synthetic:
                preview = synthetic_preview(
                    day,
                    n_companies=companies,
                    seed=seed,
                    as_of=as_of_day,
                    r2000_aum=passive_aum,
                    r1000_aum=passive_aum_r1000,
                    adv_window=adv_window,
                )
            else:
                preview = run_preview(
                    DataDir.resolve(data),
                    day,
                    as_of=as_of_day,
                    r2000_aum=passive_aum,
                    r1000_aum=passive_aum_r1000,
                    adv_window=adv_window,
                )
        if out_path is not None:
            from r2k.data.files import write_frame

            write_frame(preview.frame, out_path, "csv", parents=True)
        if as_json:
            payload = preview.to_json(top=0 if out_path is not None else None)
            if out_path is not None:
                payload["out"] = str(out_path)
                payload.pop("rows")
            out.print_json(json.dumps(payload, default=str))
            return
        _print_preview(preview, top)
        if out_path is not None:
            out.print(f"wrote {preview.frame.height:,} rows to {out_path}")

    @validate_app.command("preview")
    def validate_preview_cmd(
        effective: Annotated[
            str, typer.Option("--effective", help="Effective date (YYYY-MM-DD).")
        ],
        data: DataOpt = None,
        as_of: AsOfOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Score the preview against the effective date's volume (3x, Spearman)."""
        from r2k.data.datadir import DataDir
        from r2k.workflows.preview import validate_preview

        day = parse_date(effective, "--effective")
        as_of_day = parse_date(as_of, "--as-of") if as_of else None
        with progress("reconstituting and scoring the preview"):
            result = validate_preview(DataDir.resolve(data), day, as_of=as_of_day)
        if as_json:
            out.print_json(json.dumps(result, default=str))
            return
        table = Table(
            title=f"Preview of {result['rank_day']} (as of {result['as_of']}) against "
            f"the volume of {result['effective_date']}"
        )
        for column in (
            "group",
            "predicted",
            "scored",
            f">= {result['threshold']}x",
            "median ratio",
            "Spearman",
        ):
            table.add_column(column, justify="left" if column == "group" else "right")
        scores = result["scores"]
        assert isinstance(scores, dict)
        for group, s in scores.items():
            table.add_row(
                group,
                str(s["predicted"]),
                str(s["scored"]),
                "-"
                if s["share_at_threshold"] is None
                else f"{s['share_at_threshold']:.3f}",
                "-"
                if s["median_volume_ratio"] is None
                else f"{s['median_volume_ratio']:.2f}",
                "-" if s["spearman"] is None else f"{s['spearman']:.3f}",
            )
        out.print(table)
        out.print(f"baseline: {result['baseline']}")

    @app.command("recon-effect")
    def recon_effect_cmd(
        rank_day: RankDayOpt,
        data: DataOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Event study: abnormal returns of adds, deletes and migrations."""
        import polars as pl

        from r2k.data.datadir import DataDir
        from r2k.workflows.preview import recon_effect

        day = parse_date(rank_day, "--rank-day")
        with progress("reconstituting and measuring the effect"):
            result = recon_effect(DataDir.resolve(data), day)
        result.pop("lines")
        paths = result.pop("paths")
        assert isinstance(paths, pl.DataFrame)
        if as_json:
            result["paths"] = paths.to_dicts()
            out.print_json(json.dumps(result, default=str))
            return
        table = Table(
            title=f"Cumulative abnormal returns, rank day {result['rank_day']} to "
            f"{result['post_sessions']} sessions after {result['effective_date']}"
        )
        windows = ("rank_to_effective", "effective_day", "post_20", "rank_to_post_20")
        table.add_column("change")
        table.add_column("n", justify="right")
        for w in windows:
            table.add_column(f"{w} mean (sd)", justify="right")
        summary = result["summary"]
        assert isinstance(summary, list)
        for row in summary:
            table.add_row(
                row["change"],
                str(row["n"]),
                *[
                    f"{row[f'{w}_mean']:+.2%} ({(row[f'{w}_std'] or 0):.2%})"
                    for w in windows
                ],
            )
        out.print(table)
        out.print(f"benchmark: {result['benchmark']}")
