"""The ``r2k`` command line (Typer + Rich): parse, call one library function, render.

Errors are one line on stderr and a non-zero exit, never a traceback: ``2`` for bad
input or data (any :class:`r2k.errors.R2KError`), ``3`` when the data holds no real
membership to validate against. With ``--json`` an error is also a JSON object
on stdout (``error``, ``message``, ``hint``; see :func:`main`). Data-quality
warnings (usable data a user may want to look at) are one line each on stderr,
counted after the output, and in every ``--json`` object (``warnings``,
``warning_messages``). Every argument and output path is checked before any
computation. Steps that take more than a moment show a spinner with the elapsed
time on stderr.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
import typer.main
from rich.markup import escape
from rich.table import Table

from r2k import __version__
from r2k._typing import INDEX_LABELS, IndexCode
from r2k.cli import options
from r2k.cli.options import (
    DataOpt,
    FamilyIndexOpt,
    JsonOpt,
    RulesOpt,
    StoreOpt,
    err,
    index_code,
    out,
    parse_date,
    parse_session,
    progress,
)
from r2k.data.datadir import DataDir
from r2k.data.files import write_frame
from r2k.data.sources.quality import collect_warnings
from r2k.errors import (
    DataDirectoryError,
    MethodologyError,
    MissingDataError,
    NoSnapshotError,
    NotSessionError,
    R2KError,
    SourceFormatError,
    StoreError,
)
from r2k.methodology.rule_sets import RuleSet
from r2k.methodology.schedule import calendar_year, reconstitutions
from r2k.reporting.formatting import money, text

if TYPE_CHECKING:
    from collections.abc import Iterable

    import polars as pl

    from r2k.data.store import Store
    from r2k.workflows.pipeline import ReconRun
    from r2k.workflows.real_index import RealRun

app = typer.Typer(
    name="r2k",
    help="r2k: the Russell 2000 index system — build, validate, explain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
validate_app = typer.Typer(
    help="Check r2k against the real index.", no_args_is_help=True
)
app.add_typer(validate_app, name="validate")


def _open_store(store: Path | None) -> Store:
    """The DuckDB store (imported here: polars and duckdb stay off `--help`)."""
    from r2k.data.store import Store, resolve_store_path

    return Store(resolve_store_path(store))


def _check_paths(
    store: Path | None,
    out_file: Path | None = None,
    *,
    store_used: bool = True,
    made: tuple[Path, ...] = (),
) -> None:
    """Check the store and output paths before any work (nothing is created).

    ``out_file``'s folder must exist; the files ``made`` are written with their
    folder created if missing (``demo``'s ``out/``).
    """
    from r2k.data.files import check_output_path
    from r2k.data.store import preflight, resolve_store_path

    if out_file is not None:
        check_output_path(out_file, ("parquet", "csv"))
    for path in made:
        check_output_path(path, ("parquet", "csv"), parents=True)
    if store_used:
        preflight(resolve_store_path(store))


def _rules(path: Path | None) -> RuleSet | None:
    return RuleSet.from_toml(path) if path is not None else None


@app.command()
def calendar(
    year: Annotated[int, typer.Argument(help="Calendar year, 1979-2039.")],
    as_json: JsonOpt = False,
) -> None:
    """Rank days, preliminary lists, lock-down, effective dates and quarterly dates."""
    with progress("building the XNYS session calendar ..."):
        cal = calendar_year(year)
    recons = [
        {
            "kind": r.kind,
            "rank_day": r.rank_day.isoformat(),
            "preliminary_list": r.preliminary_list.isoformat(),
            "updates": [u.isoformat() for u in r.updates],
            "lockdown_start": r.lockdown_start.isoformat()
            if r.lockdown_start
            else None,
            "effective_date": r.effective_date.isoformat(),
            "first_session": r.first_session.isoformat(),
            "banded": r.banded,
            "regime": r.regime,
        }
        for r in cal.reconstitutions
    ]
    quarters = [
        {
            "month": q.month,
            "ipo_rank_day": q.ipo_rank_day.isoformat(),
            "announcement": q.announcement.isoformat(),
            "ipo_effective_date": q.effective_date.isoformat(),
            "share_update_cutoff": q.share_update_cutoff.isoformat(),
            "share_update_effective": q.share_update_effective.isoformat(),
            "with_reconstitution": q.with_reconstitution,
        }
        for q in cal.quarters
    ]
    if as_json:
        out.print_json(
            json.dumps({"year": year, "reconstitutions": recons, "quarters": quarters})
        )
        return
    table = Table(
        title=f"Russell US reconstitution calendar {year} ({cal.regime.name})"
    )
    for col in (
        "event",
        "rank day",
        "preliminary",
        "updates",
        "lock-down",
        "effective",
    ):
        table.add_column(col)
    for r in recons:
        table.add_row(
            str(r["kind"]),
            str(r["rank_day"]),
            str(r["preliminary_list"]),
            ", ".join(r["updates"]),  # type: ignore[arg-type]
            str(r["lockdown_start"] or "-"),
            f"{r['effective_date']} (after the close)",
        )
    out.print(table)
    qt = Table(title="Quarterly IPO additions and share/float updates")
    for col in (
        "quarter",
        "IPO rank day",
        "announced",
        "IPO effective",
        "share cut-off",
        "share update",
    ):
        qt.add_column(col)
    for q in quarters:
        qt.add_row(
            f"{year}-{q['month']:02d}",
            str(q["ipo_rank_day"]),
            str(q["announcement"]),
            str(q["ipo_effective_date"])
            + (" (recon)" if q["with_reconstitution"] else ""),
            str(q["share_update_cutoff"]),
            str(q["share_update_effective"]),
        )
    out.print(qt)


def _run(
    data: DataDir, rank_day: date, rules: RuleSet | None, as_of: date | None = None
) -> ReconRun:
    # Through the derived-data cache (R2K_NO_CACHE=1 turns it off).
    from r2k.workflows.recon_cache import cached_reconstitution

    with progress(f"reconstituting rank day {rank_day} from {data.root} ..."):
        return cached_reconstitution(data, rank_day, rules=rules, as_of=as_of)


def _summary(run: ReconRun, run_id: str, written: bool) -> dict[str, Any]:
    r = run.result
    return {
        "rank_day": r.rank_day.isoformat(),
        "effective_date": r.effective_date.isoformat(),
        "rules": r.rules,
        "run_id": run_id,
        "stored": written,
        "universe": run.universe_source,
        "incumbents": run.incumbent_source,
        "counts": r.counts(),
        "line_counts": r.line_counts(),
        "breakpoints": r.breakpoints.to_dicts(),
        "changes": r.change_counts(),
        "exclusions": r.exclusion_counts(),
        "repairs": dict(sorted(run.repairs.group_by("repair").len().iter_rows())),
        "float_ownership_ratio": r.float_ownership_ratio,
        "notes": list(run.notes),
        "inputs": run.inputs,
    }


def _print_summary(s: dict[str, Any]) -> None:
    out.print(
        f"[bold]Russell US reconstitution[/bold] rank day {s['rank_day']}, effective "
        f"after the close of {s['effective_date']} — rules {s['rules']}"
    )
    out.print(f"universe: {s['universe']}\nincumbent R2000: {s['incumbents']}")
    counts = Table(title="Membership (companies / index lines)")
    counts.add_column("index")
    counts.add_column("companies", justify="right")
    counts.add_column("lines", justify="right")
    for name, n in s["counts"].items():
        counts.add_row(name.upper(), str(n), str(s["line_counts"][name]))
    out.print(counts)
    bp = Table(title="Breakpoints and bands (total market cap)")
    for col in ("breakpoint", "rank", "cap", "cum %", "band", "band edges (cap)"):
        bp.add_column(col, justify="right")
    for row in s["breakpoints"]:
        pct = "-" if row["cum_cap_pct"] is None else f"{row['cum_cap_pct']:.2f}"
        edges = (
            "-"
            if not row["band_pct"]
            else f"{money(row['upper_edge_cap'])} .. {money(row['lower_edge_cap'])}"
        )
        bp.add_row(
            row["name"],
            str(row["rank"]),
            money(row["total_market_cap"]),
            pct,
            f"±{row['band_pct']}%" if row["band_pct"] else "none",
            edges,
        )
    out.print(bp)
    for title, mapping in (
        ("Adds, deletes, migrations (R1000/R2000)", s["changes"]),
        ("Exclusions by reason", s["exclusions"]),
        ("Data repairs", s["repairs"]),
    ):
        table = Table(title=title)
        table.add_column("what")
        table.add_column("count", justify="right")
        for key, n in mapping.items():
            table.add_row(str(key), str(n))
        out.print(table)
    _print_notes(s["notes"])


def _write_membership(frame: pl.DataFrame, path: Path) -> None:
    write_frame(frame, path, formats=("parquet", "csv"), parents=True)


@app.command()
def reconstitute(
    rank_day: Annotated[str, typer.Option("--rank-day", help="Rank day, YYYY-MM-DD.")],
    data: DataOpt = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the membership (.parquet or .csv)."),
    ] = None,
    store: StoreOpt = None,
    rules: RulesOpt = None,
    as_json: JsonOpt = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Last day read to learn which lines stop trading before the "
            "effective date, and which the fund came to hold since its incumbent "
            "file (default: the rank day), YYYY-MM-DD.",
        ),
    ] = None,
) -> None:
    """Reconstitute the Russell US indexes for a rank day from raw market data."""
    day = parse_date(rank_day, "--rank-day")
    seen = None if as_of is None else parse_date(as_of, "--as-of")
    _check_paths(store, out_file)
    run = _run(DataDir.resolve(data), day, _rules(rules), seen)
    with _open_store(store) as db:
        run_id, written = db.save_reconstitution(
            run.result, kind="recon", inputs=run.inputs
        )
    if out_file is not None:
        _write_membership(run.result.membership, out_file)
    summary = _summary(run, run_id, written)
    if as_json:
        out.print_json(json.dumps(summary, default=str))
    else:
        _print_summary(summary)
        if out_file is not None:
            out.print(f"membership written to {out_file}")


@validate_app.command("recon")
def validate_recon(
    effective: Annotated[str, typer.Option("--effective", help="Effective date.")],
    data: DataOpt = None,
    rules: RulesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare r2k's Russell 2000 with the real one after a reconstitution."""
    from r2k.workflows.pipeline import validate_reconstitution

    day = parse_date(effective, "--effective")
    schedule = next(
        (s for s in reconstitutions(day.year) if s.effective_date == day), None
    )
    if schedule is None:
        dates = ", ".join(
            s.effective_date.isoformat() for s in reconstitutions(day.year)
        )
        msg = f"--effective {day} is not a reconstitution effective date ({dates})"
        raise typer.BadParameter(msg)
    source = DataDir.resolve(data)
    with progress(f"reconstituting rank day {schedule.rank_day} and checking ..."):
        run, result = validate_reconstitution(source, day, rules=_rules(rules))
    payload = result.as_dict() | {
        "universe": run.universe_source,
        "notes": list(run.notes),
    }
    if as_json:
        out.print_json(json.dumps(payload))
        return
    table = Table(title=f"Predicted vs actual Russell 2000, effective {day}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in payload.items():
        if isinstance(value, (list, dict)):
            continue  # the line lists are in --json; the notes follow the table
        shown = f"{value:.4f}" if isinstance(value, float) else text(value)
        table.add_row(key, shown)
    out.print(table)
    _print_notes(run.notes)


ReturnOpt = Annotated[
    str,
    typer.Option("--return", help="Level written to --out: price, total or net."),
]
WeightsOpt = Annotated[
    str,
    typer.Option(
        "--weights",
        help="r2k: r2k's own maintenance and reconstitution; holdings: the IWM "
        "holdings on or before --start held fixed.",
    ),
]
_RETURN_COLUMNS = {
    "price": "price_return",
    "total": "total_return",
    "net": "net_total_return",
}


def _weights(value: str) -> Literal["holdings", "r2k"]:
    if value == "holdings":
        return "holdings"
    if value == "r2k":
        return "r2k"
    msg = f"--weights {value!r}: use 'r2k' or 'holdings'"
    raise typer.BadParameter(msg)


def _return_column(value: str) -> str:
    if value not in _RETURN_COLUMNS:
        msg = f"--return {value!r}: use price, total or net"
        raise typer.BadParameter(msg)
    return _RETURN_COLUMNS[value]


def _index_name(weights: str, index: IndexCode = "r2000") -> str:
    """Name of a calculation in the store (``r2000-r2k``, ``r1000-r2k``, ...)."""
    return f"{index}-{weights}"


@app.command()
def calculate(
    start: Annotated[str, typer.Option("--start", help="Base session (level 100).")],
    end: Annotated[str, typer.Option("--end", help="Last session.")],
    data: DataOpt = None,
    kind: ReturnOpt = "price",
    weights: WeightsOpt = "r2k",
    index: FamilyIndexOpt = "r2000",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write levels and divisor (.csv or .parquet)."),
    ] = None,
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calculate an index of the family over a window (batch mode) and store it."""
    from r2k.workflows.real_index import calculate_real

    first = parse_date(start, "--start")
    last = parse_date(end, "--end")
    if last <= first:
        msg = f"--end {last} must be after --start {first}"
        raise typer.BadParameter(msg)
    parse_session(start, "--start")  # the base: a session
    column = _return_column(kind)
    mode = _weights(weights)
    code = index_code(index)
    _check_paths(store, out_file)
    source = DataDir.resolve(data)
    with progress(f"calculating {INDEX_LABELS[code]} ({mode}), {first} .. {last} ..."):
        result = calculate_real(
            source,
            first,
            last,
            weights=mode,
            constituents=True,
            index=code,
        )
    calc = result.calculation
    name = _index_name(mode, code)
    with _open_store(store) as db:
        db.save_calculation(
            name,
            calc,
            settings={
                "start": first.isoformat(),
                "weights": mode,
                "index": code,
                "data": str(data),
            },
            inputs=source.digests(),
        )
    if out_file is not None:
        import polars as pl

        frame = calc.levels.select(
            "session", pl.col(column).alias("level"), pl.all().exclude("session")
        )
        _write_membership(frame, out_file)
    summary = _calc_summary(result, column) | {"stored_as": name}
    if as_json:
        out.print_json(json.dumps(summary, default=str))
        return
    _print_mapping(f"{INDEX_LABELS[code]} ({mode}), {first} .. {last}", summary)
    if out_file is not None:
        out.print(f"levels written to {out_file}")


def _calc_summary(result: RealRun, column: str) -> dict[str, Any]:
    calc = result.calculation
    levels = calc.levels
    return {
        "index": result.index,
        "sessions": levels.height,
        "first_session": levels["session"][0],
        "last_session": levels["session"][-1],
        "last_level": round(float(levels[column][-1]), 6),
        "members_at_end": calc.state.lines.height,
        "events": dict(sorted(calc.events.group_by("action").len().iter_rows())),
        "holdings_file": result.holdings_file,
        "unpriced_holdings_lines": len(result.unpriced),
        "lines_with_carried_prices": calc.carried.height,
        "carried_member_sessions": int(calc.carried["sessions"].sum()),
        "reconstitutions_applied": list(result.reconstitutions),
        "notes": list(result.notes),
    }


def _print_mapping(title: str, mapping: dict[str, Any]) -> None:
    """A measure/value table, with no raw Python dict or list in a cell.

    Counts by kind show on one line, nested details as indented rows, lists as
    comma-separated items and the notes after the table.
    """
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in mapping.items():
        if key == "notes":
            continue
        if isinstance(value, dict) and not all(
            isinstance(v, int | float) for v in value.values()
        ):
            table.add_row(key, "")
            for sub, item in value.items():
                table.add_row(f"  {sub}", text(item))
            continue
        table.add_row(key, text(value))
    out.print(table)
    _print_notes(mapping.get("notes", ()))


def _print_notes(notes: Iterable[object]) -> None:
    for note in notes:
        out.print(f"[yellow]note:[/yellow] {escape(str(note))}")


@app.command("run")
def run_session(
    session: Annotated[str, typer.Option("--session", help="Session to calculate.")],
    data: DataOpt = None,
    weights: WeightsOpt = "r2k",
    index: FamilyIndexOpt = "r2000",
    store: StoreOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Calculate one session from the stored state (incremental, nightly)."""
    from r2k.maintenance.engine import calculate_session
    from r2k.workflows.real_index import setup

    day = parse_session(session, "--session")
    mode = _weights(weights)
    code = index_code(index)
    name = _index_name(mode, code)
    from r2k.data.store import resolve_store_path

    if not resolve_store_path(store).exists():
        msg = (
            f"the store {resolve_store_path(store)} does not exist, so it has no "
            f"calculated {name}; run `r2k calculate --start S --end E --weights "
            f"{mode} --index {code}` first"
        )
        raise R2KError(msg)
    _check_paths(store)
    with _open_store(store) as db:
        loaded = db.load_state(name)
        if loaded is None:
            msg = (
                f"the store has no calculated {name}; run `r2k calculate --start S "
                f"--end E --weights {mode} --index {code}` first"
            )
            raise R2KError(msg)
        state, settings = loaded
        if state.session >= day:
            import polars as pl

            stored = db.levels(name).filter(pl.col("session") == day)
            if stored.height == 0:
                msg = f"the store's {name} is at {state.session}, after {day}"
                raise R2KError(msg)
            payload = {"session": day, "status": "already calculated, unchanged"}
            payload |= {k: stored[k][0] for k in _RETURN_COLUMNS.values()}
        else:
            source = DataDir.resolve(data)
            with progress(f"calculating {name} for session {day} ..."):
                inputs = setup(
                    source,
                    date.fromisoformat(str(settings["start"])),
                    weights=mode,
                    index=code,
                )
                step = calculate_session(
                    state, inputs.market, inputs.actions, inputs.settings, session=day
                )
            db.save_calculation(name, step, settings=settings, inputs=source.digests())
            row = step.levels.row(0, named=True)
            payload = {"session": day, "status": "calculated"}
            payload |= {k: row[k] for k in (*_RETURN_COLUMNS.values(), "divisor")}
            payload["events"] = step.events.height
    if as_json:
        out.print_json(json.dumps(payload, default=str))
    else:
        _print_mapping(f"{name}, session {day}", payload)


@validate_app.command("tracking")
def validate_tracking(
    start: Annotated[str, typer.Option("--start", help="First session (base).")],
    end: Annotated[str, typer.Option("--end", help="Last session.")],
    data: DataOpt = None,
    weights: WeightsOpt = "r2k",
    as_json: JsonOpt = False,
) -> None:
    """Compare r2k's daily returns with the published Russell 2000 (RUT)."""
    from r2k.data.sources.levels import read_index_levels
    from r2k.fidelity.tracking import tracking
    from r2k.workflows.real_index import calculate_real

    first = parse_date(start, "--start")
    last = parse_date(end, "--end")
    if last <= first:
        msg = f"--end {last} must be after --start {first}"
        raise typer.BadParameter(msg)
    mode = _weights(weights)
    source = DataDir.resolve(data)
    with progress(f"calculating r2k ({mode}), {first} .. {last}, and tracking RUT ..."):
        result = calculate_real(source, first, last, weights=mode)
        rut = read_index_levels(source.index_levels("RUT"), "RUT")
        stats = tracking(
            result.calculation.levels.select("session", level="price_return"),
            rut.select("session", level="close"),
        )
    calc = result.calculation
    payload = stats.to_dict() | {
        "weights": mode,
        "holdings_file": result.holdings_file,
        "missing_prices": {
            "holdings_lines_without_panel_price": len(result.unpriced),
            "treatment_unpriced": "left out from the start (not in the market panel)",
            "members_with_carried_prices": calc.carried.height,
            "carried_member_sessions": int(calc.carried["sessions"].sum()),
            "treatment_carried": "last close carried; removed at it after "
            "stale_price_removal_sessions sessions",
            "removed_as_stale": int((calc.events["action"] == "stale_price").sum()),
        },
        "reconstitutions_applied": list(result.reconstitutions),
        "notes": list(result.notes),
    }
    if as_json:
        out.print_json(json.dumps(payload, default=str))
        return
    _print_mapping(f"r2k ({mode}) vs RUT, {stats.start} .. {stats.end}", payload)


@app.command()
def demo(
    data: DataOpt = None, store: StoreOpt = None, as_json: JsonOpt = False
) -> None:
    """The main job, on the real data if present, else on the synthetic market.

    Real data: the 2026 reconstitution, then the Russell 2000 calculated from
    2026-04-10 to the end of the panel with r2k's own maintenance and tracked
    against RUT. Synthetic: the same pipeline on a seeded synthetic market.
    """
    try:
        source = DataDir.resolve(data)
    except DataDirectoryError as exc:
        _check_paths(store, made=(_SYNTHETIC_LEVELS,))
        if not as_json:
            out.print(f"[yellow]No data directory ({escape(str(exc))}).[/yellow]")
            out.print("Running the whole pipeline on the synthetic market instead.\n")
        _synthetic_demo(store, as_json=as_json, reason=str(exc))
        return
    rank_day = date(2026, 4, 30)
    start, end = date(2026, 4, 10), date(2026, 7, 22)
    path = Path("out") / f"membership_{rank_day}.parquet"
    levels_path = Path("out") / f"r2000_levels_{start}_{end}.csv"
    _check_paths(store, made=(path, levels_path))
    from r2k.data.sources.levels import read_index_levels
    from r2k.fidelity.tracking import tracking
    from r2k.workflows.real_index import calculate_real

    # Everything is computed first; the store and the files are written last.
    run = _run(source, rank_day, None)
    with progress(f"calculating the Russell 2000, {start} .. {end} ..."):
        result = calculate_real(source, start, end, weights="r2k", constituents=True)
    rut = read_index_levels(source.index_levels("RUT"), "RUT")
    stats = tracking(
        result.calculation.levels.select("session", level="price_return"),
        rut.select("session", level="close"),
    )
    with _open_store(store) as db:
        run_id, written = db.save_reconstitution(
            run.result, kind="recon", inputs=run.inputs
        )
        db.save_calculation(
            _index_name("r2k"),
            result.calculation,
            settings={"start": start.isoformat(), "weights": "r2k", "data": str(data)},
            inputs=source.digests(),
        )
    _write_membership(run.result.membership, path)
    _write_membership(result.calculation.levels, levels_path)
    recon = _summary(run, run_id, written)
    if not as_json:
        _print_summary(recon)
        out.print(f"membership written to {path} and to the store (run {run_id})\n")
    summary = _calc_summary(result, "price_return")
    summary |= {
        f"vs RUT {stats.start}..{stats.end}: correlation": round(stats.correlation, 4),
        "tracking error (bp/day, ddof=1)": round(stats.tracking_error_bp, 2),
    }
    if as_json:
        payload = {
            "market": "real",
            "reconstitution": recon,
            "membership_file": str(path),
            "calculation": summary,
            "levels_file": str(levels_path),
        }
        out.print_json(json.dumps(payload, default=str))
        return
    _print_mapping(f"Russell 2000 calculated by r2k, {start} .. {end}", summary)
    out.print(f"levels written to {levels_path} and to the store")


_SYNTHETIC_LEVELS = Path("out") / "synthetic_r2000_levels.csv"


def _synthetic_demo(
    store: Path | None, *, as_json: bool = False, reason: str = ""
) -> None:
    from r2k.workflows.synthetic_run import run_synthetic

    start, end = date(2023, 1, 3), date(2025, 12, 31)
    with progress(f"building and calculating a synthetic market, {start} .. {end} ..."):
        run = run_synthetic(4000, start=start, end=end, seed=0, constituents=True)
    calc = run.calculation
    latest = run.reconstitutions[-1]
    levels = calc.levels
    summary: dict[str, Any] = {
        "market": f"4,000 synthetic companies, {run.market.market.height:,} rows, "
        f"{run.market.actions.height:,} corporate actions (seed 0)",
        "reconstitutions": ", ".join(
            f"{r.rank_day} -> {r.effective_date}" for r in run.reconstitutions
        ),
        "latest counts": latest.counts(),
        "sessions": levels.height,
        "price return": round(float(levels["price_return"][-1]), 4),
        "total return": round(float(levels["total_return"][-1]), 4),
        "net total return (30% withholding)": round(
            float(levels["net_total_return"][-1]), 4
        ),
        "members at end": calc.state.lines.height,
        "events": dict(sorted(calc.events.group_by("action").len().iter_rows())),
    }
    with _open_store(store) as db:
        db.save_calculation(
            "r2000-synthetic", calc, settings={"synthetic": True, "seed": 0}
        )
    path = _SYNTHETIC_LEVELS
    _write_membership(levels, path)
    if as_json:
        payload = {
            "market": "synthetic",
            "reason": reason,
            "calculation": summary,
            "levels_file": str(path),
            "stored_as": "r2000-synthetic",
        }
        out.print_json(json.dumps(payload, default=str))
        return
    _print_mapping(f"Synthetic Russell 2000, {start} .. {end} (base 100)", summary)
    out.print(f"levels written to {path} and to the store as r2000-synthetic")


@app.command()
def version(as_json: JsonOpt = False) -> None:
    """Print the r2k version."""
    if as_json:
        out.print_json(json.dumps({"version": __version__}), warnings=False)
        return
    out.print(__version__)


def _show_data_warning(text: str) -> None:
    """Record a data-quality warning for ``--json`` and show it on stderr."""
    options.WARNINGS.append(text)
    err.print(f"[yellow]r2k: warning:[/yellow] {escape(text)}")


def _count_warnings(as_json: bool) -> None:
    """After a command that succeeded: the number of data warnings, on stderr."""
    n = len(options.WARNINGS)
    if n and not as_json:
        err.print(f"[yellow]r2k: {n} data warning(s), shown above[/yellow]")


class _WarningsToStderr:
    """Show warnings as one line each on stderr (never a traceback)."""

    def __enter__(self) -> None:
        self._old = warnings.showwarning

        def show(
            message: Warning | str, category: type[Warning], *_: object, **__: object
        ) -> None:
            err.print(f"[yellow]r2k: warning:[/yellow] {message}")

        warnings.showwarning = show

    def __exit__(self, *exc: object) -> None:
        warnings.showwarning = self._old


#: Hints of the ``--json`` error object, by error class (the first match wins).
_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (
        NoSnapshotError,
        "the data directory holds no real membership after that date; validate an "
        "earlier reconstitution",
    ),
    (
        DataDirectoryError,
        "pass --data DIR or set $R2K_DATA to a data directory (see docs/data.md)",
    ),
    (NotSessionError, "choose an XNYS session (a day the NYSE trades)"),
    (MissingDataError, "choose dates the data directory covers"),
    (SourceFormatError, "check the file named in the message"),
    (StoreError, "check --store or $R2K_STORE names a writable DuckDB file"),
    (MethodologyError, "see `r2k COMMAND --help` for the accepted values"),
    (OSError, "check the path in the message exists and can be written"),
)
_GENERIC_HINT = "see `r2k COMMAND --help`"


def _error_code(exc: BaseException) -> str:
    """``MissingDataError`` -> ``missing_data``; ``R2KError`` -> ``r2k``."""
    name = type(exc).__name__.removesuffix("Error")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower() or "error"


def _fail(
    as_json: bool,
    code: int,
    *,
    error: str,
    message: str,
    hint: str,
    line: str,
) -> NoReturn:
    """Report an error and exit with ``code``.

    ``line`` goes to stderr either way (as before ``--json`` errors existed);
    with ``--json`` one JSON object (``error``, ``message``, ``hint``) also goes
    to stdout, its only content.
    """
    err.print(line)
    if as_json:
        payload = {"error": error, "message": message, "hint": hint}
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()
    sys.exit(code)


def _hint(exc: BaseException) -> str:
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            return hint
    return _GENERIC_HINT


def _wants_json(args: list[str]) -> bool:
    """``--json`` among the options (before any ``--``)."""
    head = args[: args.index("--")] if "--" in args else args
    return "--json" in head


def _usage_hint(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "r2k"
    return f"run `{path} --help` for the options"


def main() -> None:
    """Entry point of the ``r2k`` script.

    Errors never show a traceback. They are one line on stderr; with ``--json``
    they are also one JSON object on stdout with the keys ``error`` (a short
    code: ``usage``, ``missing_data``, ``data_directory``, ...), ``message`` and
    ``hint``. The exit code is the same either way: 2 for bad
    input or data, 3 when there is no membership to validate against, 130 on
    an interrupt.

    Data-quality warnings raised while the command runs
    (:mod:`r2k.data.sources.quality`) are shown on stderr as they come, each
    text once; after a command that succeeded their count follows on stderr and
    a ``--json`` object carries ``warnings`` (the count) and
    ``warning_messages`` (see :data:`r2k.cli.options.out`).
    """
    logging.basicConfig(level=logging.WARNING, format="r2k: %(message)s")
    as_json = _wants_json(sys.argv[1:])
    options.WARNINGS.clear()
    try:
        with _WarningsToStderr(), collect_warnings(show=_show_data_warning):
            try:
                _dispatch(as_json)
            except SystemExit as exc:
                if not exc.code:
                    _count_warnings(as_json)
                raise
            _count_warnings(as_json)
    except NoSnapshotError as exc:
        _fail(
            as_json,
            3,
            error="no_snapshot",
            message=str(exc),
            hint=_hint(exc),
            line=f"r2k: {escape(str(exc))}",
        )
    except (R2KError, OSError) as exc:
        _fail(
            as_json,
            2,
            error=_error_code(exc) if isinstance(exc, R2KError) else "os",
            message=str(exc),
            hint=_hint(exc),
            line=f"[red]r2k: error:[/red] {escape(str(exc))}",
        )
    except typer.TyperException as exc:  # only with --json (else Typer prints it)
        _fail(
            True,
            exc.exit_code,
            error="usage",
            message=exc.format_message(),
            hint=_usage_hint(exc),
            line=f"[red]r2k: error:[/red] {escape(exc.format_message())}",
        )
    except (KeyboardInterrupt, typer.Abort):
        _fail(
            as_json,
            130,
            error="interrupted",
            message="interrupted",
            hint="run the command again",
            line="r2k: interrupted",
        )


def _dispatch(as_json: bool) -> None:
    """Run the command named in ``sys.argv``.

    Typer prints usage errors itself, unless ``--json``: then :func:`main` turns
    them into the error object.
    """
    if not as_json:
        app()
        return
    command = typer.main.get_command(app)
    code = command.main(args=sys.argv[1:], prog_name="r2k", standalone_mode=False)
    if isinstance(code, int) and code:
        sys.exit(code)


def _register_commands() -> None:
    """Add the analytics commands (analyze, report, plot) to :data:`app`."""
    from r2k.cli.analytics import register
    from r2k.cli.export import register as register_export
    from r2k.cli.fund import register as register_fund
    from r2k.cli.funds import register as register_funds
    from r2k.cli.rates import register as register_rates
    from r2k.cli.serve import register as register_serve
    from r2k.cli.sweep import register as register_sweep

    register(app)
    register_export(app)
    register_serve(app)
    register_rates(app)
    register_funds(app, validate_app)
    register_sweep(app)
    register_fund(app)
    from r2k.cli.check import register as register_check

    register_check(app)


_register_commands()
