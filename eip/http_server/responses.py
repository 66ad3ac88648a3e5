"""Small HTTP answers: standard status lines, JSON error responses and logged 500s with an error id."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

log = logging.getLogger("eip.http_server")


def status_line(code: int) -> str:
    """``201 Created``: the standard reason phrase (werkzeug's own are upper case)."""
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def json_error(status: int, error: str, **fields: Any) -> Any:
    """A small JSON error response ``{"error": ..., **fields}``."""
    import json

    from werkzeug.wrappers import Response

    return Response(json.dumps({"error": error, **fields}), status=status_line(status), mimetype="application/json")


def internal_error(what: str, exc: BaseException | None = None) -> tuple[str, Any]:
    """Log ``what`` at ERROR with a new error id (and the traceback of ``exc``); return the id and
    the 500 response that names only the id."""
    error_id = uuid.uuid4().hex
    log.error(
        "%s (error id %s)", what, error_id, exc_info=(type(exc), exc, exc.__traceback__) if exc is not None else None
    )
    return error_id, json_error(500, "internal error", error_id=error_id)
