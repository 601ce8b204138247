"""The one error body, as a schema for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]
    request_id: str | None = None
    timestamp: str


class ErrorResponse(BaseModel):
    error: ErrorDetail
