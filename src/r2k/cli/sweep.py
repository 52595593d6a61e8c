"""``r2k sweep``: rule variants, one task each, in process or on a Dask cluster."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path  # noqa: TC003 (Typer reads the annotations at run time)
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

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
    progress,
)
from r2k.reporting.formatting import money

if TYPE_CHECKING:
    from r2k.workflows.sweep import Backend, SweepResult


def parse_year_or_date(value: str, option: str, *, end: bool) -> date:
    """``1995`` (1 January, or 31 December for an end) or ``YYYY-MM-DD``."""
    if value.isdigit() and len(value) == 4:
        year = int(value)
        return date(year, 12, 31) if end else date(year, 1, 1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        msg = f"{option} {value!r}: write a year (1995) or a date (1995-06-30)"
        raise typer.BadParameter(msg) from None


def _backend(value: str) -> Backend:
    from r2k.workflows.sweep import BACKENDS

    for name in BACKENDS:
        if value == name:
            return name
    msg = f"--backend {value!r}: use one of {', '.join(BACKENDS)}"
    raise typer.BadParameter(msg)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return "-" if math.isnan(value) else f"{value:.4f}"


def _payload(result: SweepResult, out_file: Path) -> dict[str, Any]:
    return {
        "backend": result.backend,
        "workers": result.workers,
        "seconds": round(result.seconds, 3),
        "task_seconds": {r.name: round(r.seconds, 3) for r in result.results},
        "out": str(out_file),
        "variants": result.table.to_dicts(),
    }


def _print(result: SweepResult, out_file: Path) -> None:
    table = Table(
        title=f"Rule variants ({result.backend}, {result.workers} worker(s), "
        f"{result.seconds:.1f} s); tracking error against {result.results[0].name}"
    )
    shown = {
        "variant": "variant",
        "reconstitutions": "recons",
        "turnover_mean": "turnover",
        "annualized_return": "return",
        "volatility": "vol",
        "tracking_error": "TE",
        "members_end": "members",
        "cap_min_end": "cap min",
        "cap_max_end": "cap max",
    }
    for col, header in shown.items():
        table.add_column(header, justify="left" if col == "variant" else "right")
    for row in result.table.iter_rows(named=True):
        table.add_row(
            *(money(row[c]) if c.startswith("cap") else _number(row[c]) for c in shown)
        )
    out.print(table)
    out.print(f"comparison table written to {out_file}")


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to ``app``."""

    @app.command()
    def sweep(
        start: Annotated[
            str, typer.Option("--start", help="First year (or date) of the history.")
        ],
        end: Annotated[
            str, typer.Option("--end", help="Last year (or date) of the history.")
        ],
        out_file: Annotated[
            Path,
            typer.Option("--out", help="The comparison table (.parquet or .csv)."),
        ],
        rules: Annotated[
            list[str] | None,
            typer.Option(
                "--rules",
                help="A rule-set TOML per variant (repeat the option); 'default' is "
                "the packaged rule set. The first is the base of the tracking error "
                "(none: the packaged default alone).",
            ),
        ] = None,
        synthetic: SyntheticOpt = False,
        data: DataOpt = None,
        backend: Annotated[
            str,
            typer.Option(
                "--backend",
                help="local: in this process; dask: Dask distributed (a local "
                "cluster, or --address); ray: not supported.",
            ),
        ] = "local",
        address: Annotated[
            str | None,
            typer.Option(
                "--address", help="Dask scheduler, e.g. tcp://scheduler:8786."
            ),
        ] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                "--workers",
                min=1,
                help="Worker processes of the local Dask cluster (default: one per "
                "variant, at most one per CPU).",
            ),
        ] = None,
        companies: CompaniesOpt = 3000,
        seed: SeedOpt = 0,
        index: FamilyIndexOpt = "r2000",
        as_json: JsonOpt = False,
    ) -> None:
        """Sweep rule variants: each variant's whole history is one task."""
        from r2k.data.datadir import DataDir
        from r2k.data.files import write_frame
        from r2k.workflows.sweep import Variant
        from r2k.workflows.sweep import sweep as run_sweep

        one_market(synthetic=synthetic, data=data)
        first = parse_year_or_date(start, "--start", end=False)
        last = parse_year_or_date(end, "--end", end=True)
        if last <= first:
            msg = f"--end {last} must be after --start {first}"
            raise typer.BadParameter(msg)
        chosen = _backend(backend)
        code = index_code(index)
        from r2k.data.files import check_output_path

        check_output_path(out_file, ("parquet", "csv"), parents=True)  # before work
        root = None if data is None else DataDir.resolve(data).root.resolve()
        variants = [Variant.from_file(p) for p in rules or ()]
        with progress(f"sweeping {len(variants) or 1} variant(s) on {chosen} ..."):
            result = run_sweep(
                variants,
                start=first,
                end=last,
                index=code,
                companies=companies,
                seed=seed,
                data=root,
                backend=chosen,
                address=address,
                workers=workers,
            )
        write_frame(result.table, out_file, formats=("parquet", "csv"), parents=True)
        if as_json:
            out.print_json(json.dumps(_payload(result, out_file), default=str))
        else:
            _print(result, out_file)
