"""Typed dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.state import ApiState, current_state


def get_state(request: Request) -> ApiState:
    return current_state()


State = Annotated[ApiState, Depends(get_state)]
