"""Domain errors raised below the routes, and the one handler that maps them to HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.text_rules import is_storable


class DomainError(Exception):
    """An error whose message is a sentence fit to show the API user."""

    status_code: ClassVar[int] = 400
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, detail: str, **fields: int | str) -> None:
        super().__init__(detail)
        self.detail = detail
        # Machine-readable companions of the sentence, beside it in the body (the real
        # count of a refused bulk delete, say).
        self.fields = fields


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    """A well-formed request whose content breaks a rule (unknown tag ids, an empty name)."""

    status_code = 422


class TooLarge(DomainError):
    status_code = 413


class Unsupported(DomainError):
    status_code = 415


class ServiceUnavailable(DomainError):
    status_code = 503


class InsufficientStorage(DomainError):
    """A write that met a full disk: nothing of it was kept."""

    status_code = 507


class Unauthenticated(DomainError):
    status_code = 401
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status_code = 403


def error_response(exc: DomainError) -> JSONResponse:
    """The contract's error shape, with the error's own status and headers."""
    return JSONResponse(
        {"detail": exc.detail, **exc.fields}, status_code=exc.status_code, headers=exc.headers
    )


async def _handle_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc)


# What FastAPI says, as a 400, when a JSON body is not even valid UTF-8.
_BODY_PARSE_FAILURE = "There was an error parsing the body"


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    """The contract makes every malformed JSON body a 422 in the standard shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _BODY_PARSE_FAILURE:
        error = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error", "input": {}}
        return JSONResponse({"detail": [error]}, status_code=422)
    return await http_exception_handler(request, exc)


def _json_safe(value: Any) -> Any:
    """A rejected input as JSON can show it: bytes that are not UTF-8, NaN and infinities
    (Python's JSON reads them), and lone surrogates would make the 422 itself fail."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value if is_storable(value) else value.encode("utf-8", "replace").decode()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_json_safe(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


async def _handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 shape, with each rejected input made printable."""
    assert isinstance(exc, RequestValidationError)
    errors = [{**error, "input": _json_safe(error.get("input"))} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(_json_safe(errors))}, status_code=422)


# SQLSTATE 53100 (disk_full) on PostgreSQL; SQLite says it in words (SQLITE_FULL).
_POSTGRES_DISK_FULL = "53100"
_SQLITE_DISK_FULL = "database or disk is full"
DATABASE_DISK_FULL = (
    "The database's disk is full, so the change could not be saved; nothing was changed. "
    "Try again once space has been freed."
)


def is_database_disk_full(exc: OperationalError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _POSTGRES_DISK_FULL:
        return True
    return _SQLITE_DISK_FULL in str(orig)


async def _handle_operational_error(_request: Request, exc: Exception) -> JSONResponse:
    """A database that cannot write for want of disk is a 507 with a sentence; any other
    operational failure stays the server error it is."""
    assert isinstance(exc, OperationalError)
    if not is_database_disk_full(exc):
        raise exc
    return error_response(InsufficientStorage(DATABASE_DISK_FULL))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _handle_domain_error)
    app.add_exception_handler(OperationalError, _handle_operational_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, _handle_http_exception)


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entry for the error statuses a route can answer."""
    body: dict[str, Any] = {
        "description": "Error",
        "content": {"application/json": {"example": {"detail": "A sentence on what is wrong."}}},
    }
    return {code: body for code in status_codes}


def is_constraint_violation(exc: Exception, *, constraint: str, column: str) -> bool:
    """Whether an IntegrityError names `constraint` (PostgreSQL) or `column` (SQLite's wording)."""
    message = str(getattr(exc, "orig", exc))
    return constraint in message or column in message


@contextmanager
def unique_name(
    session: Session, name: str, *, noun: str, constraint: str, column: str
) -> Iterator[None]:
    """Turn the database's unique-name violation, wherever it surfaces in the block, into
    a 409 that names the taken name ("A tag named 'Leather' already exists.")."""
    try:
        yield
    except IntegrityError as exc:
        session.rollback()
        if is_constraint_violation(exc, constraint=constraint, column=column):
            raise Conflict(f"A {noun} named {name!r} already exists.") from exc
        raise
