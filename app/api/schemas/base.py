"""The base of every request body: JSON types are enforced as the OpenAPI schema states them.

Pydantic's lax mode would accept "5" for an integer or 0 for a boolean, which the
schema forbids; strict mode refuses those. JSON Schema counts 5.0 as an integer,
so integral floats are still taken for integer fields.

Every string in a body (keys of free-form objects included) is refused when it
holds what no database column stores alike: NUL or a lone surrogate. Free-form
JSON is bounded in depth. Paths and query strings (ids, filters, names) are
stricter: no control character but tab, newline and carriage return, and DEL
(:func:`unsafe_character`, used by the security middleware; the OpenAPI
document states it as :data:`PARAMETER_PATTERN`). So SQLite and PostgreSQL see
the same inputs and refuse none of them with a 500.
"""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

CONTROL_CHARACTERS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
PARAMETER_PATTERN = f"^[^{CONTROL_CHARACTERS}]*$"
"""What a path or query parameter may hold: no control character but tab, newline and carriage return."""
UNSAFE_IN_PARAMETERS = re.compile(f"[{CONTROL_CHARACTERS}\\ud800-\\udfff]")
UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")
"""Refused in every body string: NUL (PostgreSQL cannot store it) and lone surrogates (not encodable)."""
MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and lists accepted in a body (free-form fields such as metadata included)."""


def unsafe_character(text: str, refused: re.Pattern = UNSAFE_IN_PARAMETERS) -> str | None:
    """The first refused character of ``text``, escaped for a message; None when it has none."""
    found = refused.search(text)
    return None if found is None else found.group().encode("unicode_escape", "backslashreplace").decode()


def check_json(value: Any) -> None:
    """Refuse a JSON value nested deeper than MAX_JSON_DEPTH or holding an unstorable character in any string;
    iterative, so no input can exhaust the stack."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            character = unsafe_character(item, UNSTORABLE)
            if character is not None:
                raise ValueError(f"character {character} is not allowed")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


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
        check_json(data)
        fixed = dict(data)
        for name, field in cls.model_fields.items():
            key = field.alias if field.alias in fixed else name
            value = fixed.get(key)
            if isinstance(value, float) and value.is_integer() and _is_int_field(field.annotation):
                fixed[key] = int(value)
        return fixed
