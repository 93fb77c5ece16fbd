"""JSON errors everywhere (``{"error", "detail"}``) and never a stack trace to a client."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    """Every error the hub answers: what went wrong, and what to do about it."""

    error: str
    detail: str


# Documented on every API route (OpenAPI), with the body every error really has.
RESPONSES: dict[int | str, dict] = {
    code: {"model": ErrorOut, "description": description}
    for code, description in (
        (400, "a request body that is not JSON text (not UTF-8)"),
        (401, "missing, invalid or expired token"),
        (403, "the token does not allow this"),
        (404, "no such resource"),
        (409, "not possible in the resource's current state"),
        (413, "request body too large"),
        (422, "invalid input"),
        (429, "too many requests: see Retry-After"),
        (503, "a service the hub depends on does not answer"),
    )
}


class HubError(Exception):
    def __init__(self, status: int, error: str, detail: str = "", headers: dict[str, str] | None = None) -> None:
        self.status, self.error, self.detail, self.headers = status, error, detail, headers or {}


def too_many(detail: str, retry_after_s: float) -> HubError:
    """A 429 that tells the client when to try again."""
    return HubError(429, "too many requests", detail, {"Retry-After": str(max(1, round(retry_after_s)))})


def install(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(_: Request, exc: HubError) -> JSONResponse:
        return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(exc.detail), "detail": ""}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": "invalid request", "detail": problems}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return JSONResponse({"error": "internal error", "detail": "the problem was logged"}, status_code=500)
