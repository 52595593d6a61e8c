"""The FastAPI application: REST endpoints, problem details, the dashboard.

:func:`create_app` builds the application around a :class:`r2k.api.service.Service`.
Endpoints (all under ``/``; the OpenAPI document is ``/openapi.json``, the
interactive docs ``/docs``; see docs/api.md):

* ``/health``; ``/indexes``; ``/indexes/{id}/levels``, ``/sessions``,
  ``/constituents``, ``/factsheet``; ``/indexes/{id}/analytics/summary``,
  ``/rate-of-change``, ``/drawdown``, ``/rallies``, ``/ranges``;
* ``/reconstitutions``, ``/reconstitutions/{rank_day}`` and its ``/membership``,
  ``/breakpoints``, ``/changes``; ``/calendars/{year}``;
* ``POST /calculations`` and ``POST /sessions`` change the store: they answer 403
  unless the service has an API key, and then require it in ``X-API-Key``.

Tables answer JSON by default, CSV or Parquet with ``?format=csv|parquet`` or an
``Accept`` header (``text/csv``, ``application/vnd.apache.parquet``). Large
results are paged (``page``, ``page_size``; ``X-Total-Count`` gives the total).
Every response body is rendered once and kept (bounded LRU), so a repeated
request costs a dictionary look-up.
"""

import hmac
import importlib.resources
import json
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any, Final, Literal, NamedTuple

import polars as pl
from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from r2k import __version__
from r2k._typing import FileFormat
from r2k.api import models
from r2k.api.problems import PROBLEM_MEDIA_TYPE, ApiError, from_r2k_error, problem_body
from r2k.api.service import Service, family_code
from r2k.errors import R2KError
from r2k.methodology.schedule import MAX_YEAR, MIN_YEAR

__all__ = ["create_app"]

log = logging.getLogger(__name__)

CSV: Final = "text/csv"
PARQUET: Final = "application/vnd.apache.parquet"
JSON: Final = "application/json"
Format = FileFormat  # csv, parquet, json (r2k._typing, one definition)
_MEDIA: Final[dict[str, str]] = {"json": JSON, "csv": CSV, "parquet": PARQUET}
_EARLIEST: Final = date(1900, 1, 1)
_LATEST: Final = date(2100, 12, 31)
_MAX_BODY: Final = 16_384
_STATIC: Final[dict[str, str]] = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
    "index.html": "text/html; charset=utf-8",
    "factsheet.html": "text/html; charset=utf-8",
    "constituents.html": "text/html; charset=utf-8",
    "reconstitution.html": "text/html; charset=utf-8",
    "rates.html": "text/html; charset=utf-8",
}
_SWAGGER: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
_CSP: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Swagger UI (/docs) starts itself with an inline script.
_DOCS_CSP: Final = _CSP.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
_SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)

IndexId = Annotated[
    str,
    Path(
        description="Index id: RUT, RUA, SPX, or a calculation (r2000, ...); "
        "see /indexes.",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$",
        examples=["RUT", "r2000"],
    ),
]
StartQ = Annotated[
    date | None, Query(description="First session (YYYY-MM-DD).", examples=[None])
]
EndQ = Annotated[
    date | None, Query(description="Last session (YYYY-MM-DD).", examples=[None])
]
FormatQ = Annotated[
    Format | None,
    Query(description="json (default), csv or parquet; or send an Accept header."),
]
PageQ = Annotated[int, Query(ge=1, le=1_000_000, description="Page, from 1.")]
RateIndexQ = Annotated[
    Literal["RUT", "r2000"],
    Query(
        description="RUT (the published Russell 2000) or r2000 (r2k's own, over "
        "the market panel's window)."
    ),
]
FrequencyQ = Annotated[
    Literal["daily", "weekly", "monthly"],
    Query(description="Return frequency of the betas and returns by stance."),
]
CurrencyCode = Annotated[
    str,
    Path(
        description="ISO code of a currency the FX file quotes against USD; "
        "see /currencies.",
        pattern=r"^[A-Za-z]{3}$",
        examples=["EUR", "JPY"],
    ),
]
RankDay = Annotated[
    date, Path(description="Rank day (YYYY-MM-DD); see /reconstitutions.")
]


def _tables(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "content": {
                CSV: {"schema": {"type": "string"}},
                PARQUET: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


_PROBLEM = {
    "model": models.Problem,
    "content": {
        PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {**_PROBLEM, "description": text}
    for status, text in (
        (400, "Bad request"),
        (404, "Not found or not available in the data"),
        (405, "Method not allowed"),
        (409, "Cannot be done in the server's configuration"),
        (413, "Request body too large"),
        (422, "Invalid input (validation errors in `errors`)"),
        (503, "Data or store error"),
    )
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "Missing or wrong X-API-Key"},
    403: {**_PROBLEM, "description": "Writes are disabled (no API key configured)"},
}


class Rendered(NamedTuple):
    """A response body, ready to send again."""

    body: bytes
    media_type: str
    headers: dict[str, str]

    def response(self) -> Response:
        """A fresh response for this body."""
        return Response(self.body, media_type=self.media_type, headers=self.headers)


class _Renders:
    """A bounded LRU of rendered bodies."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: tuple[object, ...]) -> Rendered | None:
        """The body of ``key`` if rendered already."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def get(self, key: tuple[object, ...], build: Callable[[], Rendered]) -> Rendered:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# ---------------------------------------------------------------------- rendering


def _plain(value: object) -> object:
    """``value`` with ISO dates, non-finite floats as None, frames as records."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, pl.DataFrame):
        return [_plain(row) for row in value.iter_rows(named=True)]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _json(payload: object) -> bytes:
    return json.dumps(_plain(payload), allow_nan=False, separators=(",", ":")).encode()


def _finite(frame: pl.DataFrame) -> pl.DataFrame:
    floats = [n for n, t in frame.schema.items() if t in (pl.Float64, pl.Float32)]
    if not floats:
        return frame
    return frame.with_columns(
        pl.when(pl.col(n).is_finite()).then(pl.col(n)).alias(n) for n in floats
    )


def _records(frame: pl.DataFrame) -> bytes:
    """A frame as a JSON array of records (ISO dates, nulls for NaN)."""
    if frame.height == 0:
        return b"[]"
    return _finite(frame).write_json().encode()


def _envelope(meta: dict[str, Any], items: pl.DataFrame) -> bytes:
    head = _json(meta)
    return head[:-1] + b',"items":' + _records(items) + b"}"


def _format(fmt: Format | None, request: Request) -> Format:
    if fmt is not None:
        return fmt
    accept = request.headers.get("accept", "")
    if CSV in accept:
        return "csv"
    if PARQUET in accept:
        return "parquet"
    return "json"


def _table(
    frame: pl.DataFrame, fmt: Format, meta: dict[str, Any], filename: str
) -> Rendered:
    """``frame`` as JSON (``meta`` plus ``items``), CSV or Parquet."""
    from r2k.data.files import frame_bytes

    headers = {"X-Total-Count": str(meta.get("total", frame.height))}
    if fmt == "json":
        return Rendered(_envelope(meta, frame), JSON, headers)
    headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return Rendered(frame_bytes(_finite(frame), fmt), _MEDIA[fmt], headers)


def _page(
    frame: pl.DataFrame, page: int, page_size: int
) -> tuple[pl.DataFrame, dict[str, Any]]:
    total = frame.height
    rows = frame.slice((page - 1) * page_size, page_size) if total else frame
    return rows, {
        "page": page,
        "page_size": page_size,
        "total": total,
        "pages": math.ceil(total / page_size),
    }


def _window(start: date | None, end: date | None) -> None:
    for name, day in (("start", start), ("end", end)):
        if day is not None and not _EARLIEST <= day <= _LATEST:
            msg = f"{name} {day} is outside {_EARLIEST} .. {_LATEST}"
            raise ApiError(
                422, msg, errors=[{"loc": ["query", name], "msg": "out of range"}]
            )
    if start is not None and end is not None and end < start:
        msg = f"end {end} is before start {start}"
        raise ApiError(
            422, msg, errors=[{"loc": ["query", "end"], "msg": "before start"}]
        )


def _between(frame: pl.DataFrame, start: date | None, end: date | None) -> pl.DataFrame:
    if start is not None:
        frame = frame.filter(pl.col("session") >= start)
    if end is not None:
        frame = frame.filter(pl.col("session") <= end)
    return frame


def _currency_frame(levels: pl.DataFrame) -> pl.DataFrame:
    """Levels in both currencies with the cumulative split of the return.

    From the window's first session: ``usd_return`` (the index in dollars),
    ``currency_return`` (the dollar in the target currency), ``cross_term``
    (their product) and ``local_return`` (their sum: the index in the target
    currency), as :func:`r2k.analytics.currency.decompose_return`.
    """
    usd = pl.col("usd") / pl.col("usd").first() - 1.0
    fx = pl.col("fx_target_per_usd") / pl.col("fx_target_per_usd").first() - 1.0
    return (
        levels.select("session", "usd", "fx_target_per_usd", "fx_filled", "local")
        .with_columns(usd_return=usd, currency_return=fx)
        .with_columns(cross_term=pl.col("usd_return") * pl.col("currency_return"))
        .with_columns(
            local_return=pl.col("usd_return")
            + pl.col("currency_return")
            + pl.col("cross_term")
        )
    )


def _static(package: str, folder: str, names: dict[str, str]) -> dict[str, Rendered]:
    root = importlib.resources.files(package).joinpath(folder)
    files = {}
    for name, media in names.items():
        body = root.joinpath(name).read_bytes()
        files[name] = Rendered(body, media, {"Cache-Control": "max-age=300"})
    return files


class _Guard:
    """Pure ASGI middleware: refuse large bodies, add security headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        size = headers.get(b"content-length")
        if size is not None and (not size.isdigit() or int(size) > _MAX_BODY):
            error = ApiError(413, f"request bodies are limited to {_MAX_BODY} bytes")
            body = problem_body(error, scope["path"])
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                        *_SECURITY_HEADERS,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        csp = (_DOCS_CSP if scope["path"] == "/docs" else _CSP).encode()

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *_SECURITY_HEADERS,
                    (b"content-security-policy", csp),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --------------------------------------------------------------------- the app


def create_app(service: Service, *, warm: bool = False) -> FastAPI:
    """The API and dashboard application over ``service``.

    Parameters
    ----------
    service : Service
        Data, store and API key.
    warm : bool, default False
        Compute the usual items in a background thread at start-up.
    """
    renders = _Renders()
    static = _static("r2k.api", "static", _STATIC)
    swagger = _static("fastapi_offline", "static", _SWAGGER)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:
            threading.Thread(
                target=service.warm,
                kwargs={"freeze": True},
                name="r2k-warm",
                daemon=True,
            ).start()
        yield

    app = FastAPI(
        title="r2k",
        version=__version__,
        summary="The Russell US index family (Russell 2000 centred): levels, "
        "constituents, reconstitutions, analytics, calendars.",
        description="JSON by default; CSV or Parquet with `format` or `Accept`. "
        "Errors are RFC 9457 problem details. Writes need `X-API-Key` when the "
        "server has a key and are disabled otherwise. Dashboard: `/`.",
        docs_url=None,
        redoc_url=None,
        responses=_ERRORS,
        lifespan=lifespan,
    )
    app.add_middleware(_Guard)
    key_header = APIKeyHeader(
        name="X-API-Key", auto_error=False, description="The server's API key."
    )

    # -------------------------------------------------------------- errors

    def problem(error: ApiError, request: Request) -> Response:
        return Response(
            problem_body(error, request.url.path),
            status_code=error.status,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=error.headers,
        )

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> Response:
        return problem(exc, request)

    @app.exception_handler(R2KError)
    async def on_r2k_error(request: Request, exc: R2KError) -> Response:
        return problem(from_r2k_error(exc), request)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        where = ", ".join(
            ".".join(str(p) for p in e["loc"]) + f": {e['msg']}" for e in errors[:5]
        )
        return problem(
            ApiError(422, f"invalid request: {where}", errors=errors), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such path {request.url.path!r}; see /docs"
        return problem(
            ApiError(exc.status_code, detail, headers=dict(exc.headers or {})), request
        )

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return problem(ApiError(500, "unexpected server error; see the log"), request)

    # -------------------------------------------------------------- helpers

    async def cached(
        key: tuple[object, ...], build: Callable[[], Rendered]
    ) -> Response:
        """The rendered body of ``key``; built in a worker thread on a miss."""
        full = (service.generation, *key)
        hit = renders.peek(full)
        if hit is None:
            hit = await run_in_threadpool(renders.get, full, build)
        return hit.response()

    def require_key(key: Annotated[str | None, Depends(key_header)] = None) -> None:
        if service.api_key is None:
            msg = (
                "state-changing endpoints are disabled: start the server with an "
                "API key (R2K_API_KEY or --api-key-file) to enable them"
            )
            raise ApiError(403, msg, slug="writes-disabled")
        if key is None or not hmac.compare_digest(
            key.encode(), service.api_key.encode()
        ):
            raise ApiError(
                401,
                "send the server's API key in the X-API-Key header",
                slug="unauthorized",
                headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
            )

    # ---------------------------------------------------------------- health

    @app.get("/health", tags=["service"], response_model=models.HealthOut)
    def health() -> Response:
        """Liveness and what is served."""
        return Response(
            _json(
                {
                    "status": "ok",
                    "version": __version__,
                    "data": service.data.root.name,
                    "store": service.store.name if service.store else None,
                    "write_enabled": service.api_key is not None,
                    "indexes": len(service.indexes()),
                    "ready": service.ready,
                }
            ),
            media_type=JSON,
        )

    # ---------------------------------------------------------------- indexes

    @app.get("/indexes", tags=["indexes"], response_model=models.IndexList)
    async def indexes() -> Response:
        """Every index served: published files and r2k's calculations."""
        return await cached(
            ("indexes",),
            lambda: Rendered(
                _json({"items": [i.to_dict() for i in service.indexes()]}), JSON, {}
            ),
        )

    @app.get(
        "/indexes/{index_id}/levels",
        tags=["indexes"],
        response_model=models.LevelsPage,
        responses=_tables(models.LevelsPage),
    )
    async def levels(
        request: Request,
        index_id: IndexId,
        kind: Annotated[
            Literal["price", "total", "net"],
            Query(alias="return", description="price, total or net (total) return"),
        ] = "price",
        start: StartQ = None,
        end: EndQ = None,
        page: PageQ = 1,
        page_size: Annotated[int, Query(ge=1, le=20_000)] = 5_000,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Daily levels over a date range (paged, oldest first)."""
        _window(start, end)
        chosen = _format(fmt, request)

        def build() -> Rendered:
            info = service.index(index_id)
            frame = _between(service.levels(info.id, kind), start, end)
            rows, meta = _page(frame, page, page_size)
            sessions = frame.get_column("session")
            head = {
                "index": info.id,
                "return": kind,
                "first_session": sessions.min() if frame.height else None,
                "last_session": sessions.max() if frame.height else None,
            }
            return _table(rows, chosen, head | meta, f"{info.id}_levels")

        return await cached(
            ("levels", index_id.lower(), kind, start, end, page, page_size, chosen),
            build,
        )

    @app.get(
        "/indexes/{index_id}/sessions",
        tags=["constituents"],
        response_model=models.SessionsOut,
    )
    async def sessions(index_id: IndexId) -> Response:
        """Sessions on which the index has constituents."""

        def build() -> Rendered:
            info = service.index(index_id)
            days = service.sessions(info.id)
            return Rendered(_json({"index": info.id, "sessions": list(days)}), JSON, {})

        return await cached(("sessions", index_id.lower()), build)

    @app.get(
        "/indexes/{index_id}/constituents",
        tags=["constituents"],
        response_model=models.ConstituentsPage,
        responses=_tables(models.ConstituentsPage),
    )
    async def constituents(
        request: Request,
        index_id: IndexId,
        session: Annotated[
            date | None, Query(description="Session (default: the last).")
        ] = None,
        sort: Annotated[
            Literal[
                "weight",
                "security_id",
                "name",
                "sector",
                "close",
                "float_market_cap",
                "total_market_cap",
            ],
            Query(),
        ] = "weight",
        order: Annotated[Literal["asc", "desc"], Query()] = "desc",
        q: Annotated[
            str | None,
            Query(
                max_length=64,
                description="Keep lines whose id, name or sector contains this "
                "text (case-insensitive, literal).",
            ),
        ] = None,
        page: PageQ = 1,
        page_size: Annotated[int, Query(ge=1, le=5_000)] = 2_500,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Constituents on a session with closing weights, names, sectors, caps."""
        _window(session, None)
        chosen = _format(fmt, request)
        query = q.strip() if q else None

        def build() -> Rendered:
            info = service.index(index_id)
            frame = service.constituents(info.id, session)
            if query:
                needle = query.lower()
                frame = frame.filter(
                    pl.any_horizontal(
                        pl.col(c)
                        .fill_null("")
                        .str.to_lowercase()
                        .str.contains(needle, literal=True)
                        for c in ("security_id", "name", "sector")
                    )
                )
            frame = frame.sort(
                [sort, "security_id"],
                descending=[order == "desc", False],
                nulls_last=True,
            )
            rows, meta = _page(frame, page, page_size)
            day = rows.get_column("session")[0] if rows.height else session
            if day is None:
                day = service.sessions(info.id)[-1]
            head = {
                "index": info.id,
                "session": day,
                "source": service.index(info.id).source,
                "sort": sort,
                "order": order,
                "query": query,
            }
            return _table(rows, chosen, head | meta, f"{info.id}_constituents_{day}")

        return await cached(
            (
                "constituents",
                index_id.lower(),
                session,
                sort,
                order,
                query,
                page,
                page_size,
                chosen,
            ),
            build,
        )

    @app.get(
        "/indexes/{index_id}/factsheet",
        tags=["analytics"],
        response_model=models.FactsheetOut,
    )
    async def factsheet(index_id: IndexId) -> Response:
        """Performance (1M .. since start), calendar years, risk, size, sectors."""

        def build() -> Rendered:
            info = service.index(index_id)
            sheet = service.factsheet(info.id).to_dict()
            traits = service.characteristics(info.id)
            extra = None
            if traits is not None:
                from r2k.workflows.exports import clean_name

                full = traits.to_dict()
                extra = {k: full[k] for k in models.CharacteristicsOut.model_fields}
                for holding in extra["top10"]:
                    holding["name"] = clean_name(holding["name"])
            payload = {"index": info.id, **sheet, "characteristics": extra}
            return Rendered(_json(payload), JSON, {})

        return await cached(("factsheet", index_id.lower()), build)

    # -------------------------------------------------------------- analytics

    @app.get(
        "/indexes/{index_id}/analytics/summary",
        tags=["analytics"],
        response_model=models.AnalyticsSummary,
    )
    async def summary(
        index_id: IndexId, start: StartQ = None, end: EndQ = None
    ) -> Response:
        """Return, risk, benchmarks, rates of change and calendar years."""
        _window(start, end)

        def build() -> Rendered:
            info = service.index(index_id)
            full = service.analysis(info.id, start, end).to_dict()
            for table in ("drawdowns", "rallies", "ranges", "name"):
                full.pop(table, None)
            return Rendered(_json({"index": info.id, **full}), JSON, {})

        return await cached(("summary", index_id.lower(), start, end), build)

    @app.get(
        "/indexes/{index_id}/analytics/rate-of-change",
        tags=["analytics"],
        response_model=models.RateOfChangeOut,
        responses=_tables(models.RateOfChangeOut),
    )
    async def rate_of_change(
        request: Request,
        index_id: IndexId,
        period: Annotated[int, Query(ge=1, le=2_520, description="Sessions.")] = 21,
        start: StartQ = None,
        end: EndQ = None,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Rate of change in percent over ``period`` sessions, each session."""
        _window(start, end)
        chosen = _format(fmt, request)

        def build() -> Rendered:
            from r2k.analytics import rate_of_change as roc

            info = service.index(index_id)
            frame = _between(service.levels(info.id, "price"), start, end)
            values = roc(frame.get_column("level"), period, unit="percent")
            items = frame.with_columns(value=values)
            head = {"index": info.id, "period": period, "unit": "percent"}
            return _table(items, chosen, head, f"{info.id}_roc_{period}")

        return await cached(
            ("roc", index_id.lower(), period, start, end, chosen), build
        )

    @app.get(
        "/indexes/{index_id}/analytics/drawdown",
        tags=["analytics"],
        response_model=models.DrawdownOut,
    )
    async def drawdown(
        index_id: IndexId, start: StartQ = None, end: EndQ = None
    ) -> Response:
        """The fall from the running high each session, and every episode."""
        _window(start, end)

        def build() -> Rendered:
            info = service.index(index_id)
            a = service.analysis(info.id, start, end)
            items = a.daily.select("session", "level", value=pl.col("drawdown"))
            head = {"index": info.id, "episodes": a.drawdowns}
            return Rendered(_envelope(_plain(head), items), JSON, {})  # type: ignore[arg-type]

        return await cached(("drawdown", index_id.lower(), start, end), build)

    @app.get(
        "/indexes/{index_id}/analytics/rallies",
        tags=["analytics"],
        response_model=models.RalliesOut,
        responses=_tables(models.RalliesOut),
    )
    async def rallies(
        request: Request,
        index_id: IndexId,
        start: StartQ = None,
        end: EndQ = None,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Rallies after declines (the rally table of r2k.analytics.rallies)."""
        _window(start, end)
        chosen = _format(fmt, request)

        def build() -> Rendered:
            info = service.index(index_id)
            a = service.analysis(info.id, start, end)
            head = {
                "index": info.id,
                "decline_threshold": a.decline_threshold,
                "rally_threshold": a.rally_threshold,
            }
            return _table(a.rallies, chosen, head, f"{info.id}_rallies")

        return await cached(("rallies", index_id.lower(), start, end, chosen), build)

    @app.get(
        "/indexes/{index_id}/analytics/ranges",
        tags=["analytics"],
        response_model=models.RangesOut,
        responses=_tables(models.RangesOut),
    )
    async def ranges(
        request: Request,
        index_id: IndexId,
        start: StartQ = None,
        end: EndQ = None,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Range-bound periods with support and resistance."""
        _window(start, end)
        chosen = _format(fmt, request)

        def build() -> Rendered:
            info = service.index(index_id)
            a = service.analysis(info.id, start, end)
            head = {"index": info.id, "bars": a.bars}
            return _table(a.ranges, chosen, head, f"{info.id}_ranges")

        return await cached(("ranges", index_id.lower(), start, end, chosen), build)

    # ------------------------------------------------------ rates, currencies

    @app.get("/rates", tags=["rates"], response_model=models.RatesOut)
    async def rates(
        index: RateIndexQ = "RUT",
        frequency: FrequencyQ = "weekly",
        start: StartQ = None,
        end: EndQ = None,
    ) -> Response:
        """The rate view: rate betas, policy cycles, event study and r*.

        Betas to the 2y / 10y yields and the dollar (classical and HC1 errors),
        policy cycles with index and small-minus-large returns per phase, the
        event study, and r* (real policy rate, r* proxy, stance, returns by
        stance). Series: /rates/rolling-betas, /rates/policy, /rates/stance.
        """
        _window(start, end)

        def build() -> Rendered:
            view = service.rate_view(index, frequency=frequency, start=start, end=end)
            payload = view.to_dict()
            for source in payload["sources"]:
                source["path"] = service.relative(source["path"])
            return Rendered(_json(payload), JSON, {})

        return await cached(("rates", index, frequency, start, end), build)

    @app.get(
        "/rates/rolling-betas",
        tags=["rates"],
        response_model=models.RollingBetasOut,
        responses=_tables(models.RollingBetasOut),
    )
    async def rolling_betas(
        request: Request,
        index: RateIndexQ = "RUT",
        frequency: FrequencyQ = "weekly",
        series: Annotated[
            Literal["index", "relative"] | None,
            Query(description="index or relative (to the S&P 500); default both."),
        ] = None,
        factor: Annotated[
            Literal["2y", "10y", "dollar"] | None,
            Query(description="2y, 10y or dollar; default all."),
        ] = None,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Rolling betas (three years of periods per window), oldest first."""
        chosen = _format(fmt, request)

        def build() -> Rendered:
            view = service.rate_view(index, frequency=frequency)
            frame = view.sensitivity.rolling.select(
                "period_end", "series", "factor", "beta", "se"
            )
            if series is not None:
                frame = frame.filter(pl.col("series") == series)
            if factor is not None:
                frame = frame.filter(pl.col("factor") == factor)
            head = {
                "index": view.index,
                "frequency": view.sensitivity.frequency,
                "window": view.sensitivity.window,
                "series": series,
                "factor": factor,
            }
            return _table(frame, chosen, head, f"{view.index}_rolling_betas")

        return await cached(
            ("rolling-betas", index, frequency, series, factor, chosen), build
        )

    @app.get(
        "/rates/policy",
        tags=["rates"],
        response_model=models.PolicyRateOut,
        responses=_tables(models.PolicyRateOut),
    )
    async def policy_rate(
        request: Request,
        index: RateIndexQ = "RUT",
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """The daily policy rate and the hiking / cutting / holding periods.

        The target range's midpoint from 2008-12-16, the effective rate before,
        over the index's window.
        """
        chosen = _format(fmt, request)

        def build() -> Rendered:
            view = service.rate_view(index)
            head = {
                "index": view.index,
                "start": view.start,
                "end": view.end,
                "periods": view.periods,
            }
            return _table(view.policy, chosen, _plain(head), f"{view.index}_policy")  # type: ignore[arg-type]

        return await cached(("policy", index, chosen), build)

    @app.get(
        "/rates/stance",
        tags=["rates"],
        response_model=models.StanceOut,
        responses=_tables(models.StanceOut),
    )
    async def stance(
        request: Request,
        index: RateIndexQ = "RUT",
        frequency: FrequencyQ = "weekly",
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Daily real policy rate, r* proxy and stance (from 2003); returns by stance.

        Real policy rate = DFF - T5YIE; the r* proxy is a market proxy (5y5y
        TIPS forward), not an estimate of the natural rate.
        """
        chosen = _format(fmt, request)

        def build() -> Rendered:
            view = service.rate_view(index, frequency=frequency)
            head = {
                "index": view.index,
                "rstar_source": view.rstar_source,
                "band": view.band,
                "by_stance": view.by_stance,
            }
            return _table(view.stance, chosen, _plain(head), f"{view.index}_stance")  # type: ignore[arg-type]

        return await cached(("stance", index, frequency, chosen), build)

    @app.get("/currencies", tags=["rates"], response_model=models.CurrencyList)
    async def currencies() -> Response:
        """Currencies the FX file quotes against the dollar, and their spans.

        The quote direction is read from the column name, never guessed.
        """

        def build() -> Rendered:
            fx = service.fx()
            items = []
            for code in sorted(fx.pairs):
                column, quote = fx.pairs[code]
                days = fx.rates(code).get_column("session")
                items.append(
                    {
                        "code": code,
                        "fx_column": column,
                        "fx_quote": quote,
                        "first": days.min() if days.len() else None,
                        "last": days.max() if days.len() else None,
                        "repaired": list(fx.repaired.get(column, ())),
                    }
                )
            payload = {
                "source": service.relative(fx.path),
                "items": items,
                "skipped": list(fx.skipped),
            }
            return Rendered(_json(payload), JSON, {})

        return await cached(("currencies",), build)

    @app.get(
        "/indexes/{index_id}/currency/{code}",
        tags=["rates"],
        response_model=models.CurrencyOut,
        responses=_tables(models.CurrencyOut),
    )
    async def in_currency(
        request: Request,
        index_id: IndexId,
        code: CurrencyCode,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """The index in another currency, and its return split in three.

        Price levels over the window of the FX data; the return split into the
        dollar return, the currency return and their cross term (summing
        exactly).
        """
        chosen = _format(fmt, request)

        def build() -> Rendered:
            info = service.index(index_id)
            version = service.currency_version(info.id, code)
            usd = service.levels(info.id, "price").get_column("session")
            first, last = usd[0], usd[-1]
            fx = service.fx()
            head = version.to_dict()
            head.pop("name")
            where = f"{version.column} in {service.relative(fx.path)}"
            head = {
                "index": info.id,
                "name": f"{info.id} in {version.currency}",
                **head,
                "usd_start": first,
                "usd_end": last,
                "window_note": (
                    f"window limited to the FX data: {version.start} to "
                    f"{version.end} ({where}); {info.id} in dollars runs "
                    f"{first} to {last}"
                ),
                "notes": [
                    f"{version.column} is quoted "
                    + (
                        f"{version.currency} per USD"
                        if version.quote == "target_per_usd"
                        else f"USD per {version.currency} (inverted)"
                    )
                    + ", read from the column name",
                    f"{version.filled} session(s) without a {version.column} rate "
                    f"took the previous one (at most {version.fill_limit} in a row)",
                    *(
                        f"{version.column} on {day}: a one-day spike that reverts "
                        "(a bad print), treated as missing"
                        for day in version.repaired
                    ),
                    "returns are cumulative from the window's first session: "
                    "local = usd + currency + cross, cross = usd x currency",
                ],
            }
            frame = _currency_frame(version.levels)
            return _table(
                frame,
                chosen,
                _plain(head),  # type: ignore[arg-type]
                f"{info.id}_in_{version.currency}",
            )

        return await cached(("currency", index_id.lower(), code.upper(), chosen), build)

    # -------------------------------------------------------- reconstitutions

    @app.get(
        "/reconstitutions", tags=["reconstitutions"], response_model=models.ReconList
    )
    async def reconstitution_list() -> Response:
        """Reconstitutions the data directory can build."""

        def build() -> Rendered:
            from r2k.methodology.schedule import reconstitution_for_rank_day

            items = []
            for day in service.rank_days():
                s = reconstitution_for_rank_day(day)
                items.append(
                    {
                        "rank_day": s.rank_day,
                        "effective_date": s.effective_date,
                        "kind": s.kind,
                        "year": s.year,
                    }
                )
            return Rendered(_json({"items": items}), JSON, {})

        return await cached(("recons",), build)

    @app.get(
        "/reconstitutions/{rank_day}",
        tags=["reconstitutions"],
        response_model=models.ReconSummary,
    )
    async def reconstitution(rank_day: RankDay) -> Response:
        """Counts per index, changes, exclusions and notes of one reconstitution."""

        def build() -> Rendered:
            run = service.reconstitution(rank_day)
            r = run.result
            payload = {
                "rank_day": r.rank_day,
                "effective_date": r.effective_date,
                "rules": r.rules,
                "universe": run.universe_source,
                "incumbents": run.incumbent_source,
                "counts": r.counts(),
                "line_counts": r.line_counts(),
                "changes": r.change_counts(),
                "exclusions": r.exclusion_counts(),
                "float_ownership_ratio": r.float_ownership_ratio,
                "notes": list(run.notes),
            }
            return Rendered(_json(payload), JSON, {})

        return await cached(("recon", rank_day), build)

    @app.get(
        "/reconstitutions/{rank_day}/membership",
        tags=["reconstitutions"],
        response_model=models.MembershipPage,
        responses=_tables(models.MembershipPage),
    )
    async def membership(
        request: Request,
        rank_day: RankDay,
        index: Annotated[
            Literal[
                "r3000e",
                "r3000",
                "r1000",
                "r2000",
                "microcap",
                "midcap",
                "top200",
                "r2500",
            ],
            Query(),
        ] = "r2000",
        page: PageQ = 1,
        page_size: Annotated[int, Query(ge=1, le=5_000)] = 1_000,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Lines of one index after the reconstitution, by rank."""
        chosen = _format(fmt, request)

        def build() -> Rendered:
            from r2k.workflows.exports import clean_names

            run = service.reconstitution(rank_day)
            frame = (
                run.result.index(family_code(index))
                .with_columns(clean_names("name"))
                .select(
                    "rank",
                    "company_id",
                    "security_id",
                    "is_pricing_vehicle",
                    "name",
                    "sector",
                    "total_market_cap",
                    "float_factor",
                    "float_market_cap",
                    "close",
                )
            )
            rows, meta = _page(frame, page, page_size)
            head = {"rank_day": rank_day, "index": index}
            return _table(rows, chosen, head | meta, f"{index}_membership_{rank_day}")

        return await cached(
            ("membership", rank_day, index, page, page_size, chosen), build
        )

    @app.get(
        "/reconstitutions/{rank_day}/breakpoints",
        tags=["reconstitutions"],
        response_model=models.BreakpointsOut,
        responses=_tables(models.BreakpointsOut),
    )
    async def breakpoints(
        request: Request,
        rank_day: RankDay,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Breakpoints by rank and cap, with their bands (percentiles, caps)."""
        chosen = _format(fmt, request)

        def build() -> Rendered:
            run = service.reconstitution(rank_day)
            return _table(
                run.result.breakpoints,
                chosen,
                {"rank_day": rank_day},
                f"breakpoints_{rank_day}",
            )

        return await cached(("breakpoints", rank_day, chosen), build)

    @app.get(
        "/reconstitutions/{rank_day}/changes",
        tags=["reconstitutions"],
        response_model=models.ChangesPage,
        responses=_tables(models.ChangesPage),
    )
    async def changes(
        request: Request,
        rank_day: RankDay,
        change: Annotated[
            Literal["add", "delete", "migrate_up", "migrate_down"] | None,
            Query(description="Keep one kind of change."),
        ] = None,
        page: PageQ = 1,
        page_size: Annotated[int, Query(ge=1, le=5_000)] = 1_000,
        fmt: Annotated[FormatQ, Query(alias="format")] = None,
    ) -> Response:
        """Adds, deletes and migrations between the Russell 1000 and 2000."""
        chosen = _format(fmt, request)

        def build() -> Rendered:
            from r2k.workflows.exports import clean_names

            changes = service.reconstitution(rank_day).result.changes
            frame = changes.with_columns(clean_names("name"))
            if change is not None:
                frame = frame.filter(pl.col("change") == change)
            frame = frame.sort(["change", "security_id"])
            rows, meta = _page(frame, page, page_size)
            head = {"rank_day": rank_day, "change": change}
            return _table(rows, chosen, head | meta, f"changes_{rank_day}")

        return await cached(
            ("changes", rank_day, change, page, page_size, chosen), build
        )

    # -------------------------------------------------------------- calendars

    @app.get("/calendars/{year}", tags=["calendars"], response_model=models.CalendarOut)
    async def calendar(
        year: Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description="Year.")],
    ) -> Response:
        """Rank days, lists, lock-down, effective dates and quarterly dates."""

        def build() -> Rendered:
            from r2k.methodology.schedule import calendar_year

            cal = calendar_year(year)
            payload = {
                "year": year,
                "regime": cal.regime.name,
                "reconstitutions": [
                    {
                        "kind": r.kind,
                        "rank_day": r.rank_day,
                        "preliminary_list": r.preliminary_list,
                        "updates": list(r.updates),
                        "lockdown_start": r.lockdown_start,
                        "effective_date": r.effective_date,
                        "first_session": r.first_session,
                        "banded": r.banded,
                        "regime": r.regime,
                    }
                    for r in cal.reconstitutions
                ],
                "quarters": [
                    {
                        "month": q.month,
                        "ipo_rank_day": q.ipo_rank_day,
                        "announcement": q.announcement,
                        "ipo_effective_date": q.effective_date,
                        "share_update_cutoff": q.share_update_cutoff,
                        "share_update_effective": q.share_update_effective,
                        "with_reconstitution": q.with_reconstitution,
                    }
                    for q in cal.quarters
                ],
            }
            return Rendered(_json(payload), JSON, {})

        return await cached(("calendar", year), build)

    # ---------------------------------------------------------- state changes

    @app.post(
        "/calculations",
        tags=["writes"],
        status_code=201,
        response_model=models.WriteOut,
        responses=_WRITE_ERRORS,
        dependencies=[Depends(require_key)],
    )
    def calculate(body: models.CalculateIn) -> Response:
        """Calculate an index of the family over a window and store it."""
        _window(body.start, body.end)
        if body.end <= body.start:
            raise ApiError(422, f"end {body.end} must be after start {body.start}")
        result = service.calculate(family_code(body.index), body.start, body.end)
        renders.clear()
        return Response(
            _json({"status": "stored", **result}), status_code=201, media_type=JSON
        )

    @app.post(
        "/sessions",
        tags=["writes"],
        response_model=models.WriteOut,
        responses=_WRITE_ERRORS,
        dependencies=[Depends(require_key)],
    )
    def run_session(body: models.RunSessionIn) -> Response:
        """Calculate one more session of a stored calculation (incremental)."""
        _window(body.session, None)
        result = service.run_session(family_code(body.index), body.session)
        renders.clear()
        return Response(_json(result), media_type=JSON)

    # -------------------------------------------------------------- dashboard

    def page_of(name: str) -> Response:
        return static[name].response()

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return page_of("index.html")

    @app.get("/factsheet", include_in_schema=False)
    def factsheet_page() -> Response:
        return page_of("factsheet.html")

    @app.get("/constituents", include_in_schema=False)
    def constituents_page() -> Response:
        return page_of("constituents.html")

    @app.get("/reconstitution", include_in_schema=False)
    def reconstitution_page() -> Response:
        return page_of("reconstitution.html")

    @app.get("/rates-and-currencies", include_in_schema=False)
    def rates_page() -> Response:
        return page_of("rates.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        found = static.get(name) or swagger.get(name)
        if found is None or name.endswith(".html"):
            raise ApiError(404, "no such static file")
        return found.response()

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="r2k API",
            swagger_js_url="/static/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui.css",
            swagger_favicon_url="/static/favicon.png",
        )

    @app.get("/dashboard", include_in_schema=False)
    def dashboard() -> RedirectResponse:
        return RedirectResponse("/")

    return app
