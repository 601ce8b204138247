"""The base of every request body: JSON types are enforced as the OpenAPI schema states them.

Pydantic's lax mode would accept "5" for an integer or 0 for a boolean, which the
schema forbids; strict mode refuses those. JSON Schema counts 5.0 as an integer,
so integral floats are still taken for integer fields.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def _is_int_field(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(arg is int for arg in typing.get_args(annotation))


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _integral_floats(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        fixed = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias if field.alias in fixed else name
            value = fixed.get(key)
            if isinstance(value, float) and value.is_integer() and _is_int_field(field.annotation):
                fixed[key] = int(value)
        return fixed
