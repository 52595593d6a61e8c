"""RFC 9457 problem details: every error the API returns.

An error is ``application/problem+json`` with ``type`` (a URI reference,
``/problems/<slug>``), ``title``, ``status``, ``detail`` and ``instance`` (the
request path); a validation error adds ``errors`` (where and why).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from r2k.errors import (
    DataDirectoryError,
    MethodologyError,
    MissingDataError,
    NotSessionError,
    R2KError,
    SchemaError,
    SourceFormatError,
    StoreError,
)

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "from_r2k_error",
    "problem_body",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
log = logging.getLogger(__name__)

_TITLES: Final[dict[int, str]] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class ApiError(Exception):
    """An error the API answers with a problem detail."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or _TITLES.get(status, "error").lower().replace(" ", "-")
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.errors = errors


def from_r2k_error(exc: R2KError) -> ApiError:
    """The problem an :class:`r2k.errors.R2KError` becomes.

    Missing data is 404; bad methodology input 422; a store failure 503; any
    other r2k error 409 (the request is valid but cannot be done now).
    """
    if isinstance(exc, MissingDataError | DataDirectoryError):
        return ApiError(404, str(exc), slug="not-available", title="Not available")
    if isinstance(exc, MethodologyError | SchemaError | NotSessionError):
        return ApiError(422, str(exc), slug="invalid-input", title="Invalid input")
    if isinstance(exc, SourceFormatError):
        log.warning("data error: %s", exc)
        return ApiError(503, str(exc), slug="data-error", title="Data error")
    if isinstance(exc, StoreError):
        return ApiError(503, str(exc), slug="store-error", title="Store error")
    return ApiError(409, str(exc), slug="cannot-be-done", title="Cannot be done")


def problem_body(error: ApiError, instance: str) -> bytes:
    """The JSON body of ``error`` for the request path ``instance``."""
    body: dict[str, Any] = {
        "type": f"/problems/{error.slug}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
    }
    if error.errors is not None:
        body["errors"] = error.errors
    return json.dumps(body, default=str).encode()
