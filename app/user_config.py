"""The user configuration file behind `vid-bench config set|show|reset`.

The file is ``<data_dir>/config.toml`` (app.config.config_file_path); Settings reads it as a source under the
VDB_* environment variables. Every write is validated with the whole Settings model first, so the file never
holds a value the application would refuse at start, and it is replaced atomically (mode 0600: it may hold
secrets such as secret_key).
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal

import annotated_types
import tomli_w
from pydantic import SecretStr
from pydantic import ValidationError as PydanticError
from pydantic.fields import FieldInfo

from app.config import Settings, config_file_path
from app.errors import ValidationError
from app.i18n import Message

NOT_IN_FILE = {"data_dir": "data_dir locates the configuration file itself; set VDB_DATA_DIR instead"}
"""Settings the file cannot hold, with the reason."""

TEXT_TYPES = (str, Path, SecretStr)


def env_name(key: str) -> str:
    return f"VDB_{key.upper()}"


def env_value(key: str) -> str | None:
    """The VDB_* variable of a setting, matched without regard to case as pydantic-settings does."""
    wanted = env_name(key)
    return next((value for name, value in os.environ.items() if name.upper() == wanted), None)


def read_file(path: Path | None = None) -> dict[str, Any]:
    path = path or config_file_path()
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(
            Message("{path} is not valid TOML: {error}", path=str(path), error=str(error)), {"path": str(path)}
        ) from None


def write_file(data: dict[str, Any], path: Path | None = None) -> Path:
    """Replace the file atomically; an empty configuration removes it."""
    path = path or config_file_path()
    if not data:
        path.unlink(missing_ok=True)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config-", suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as handle:
            tomli_w.dump(data, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def union_members(annotation: Any) -> list[Any]:
    """``int | None`` -> [int]; any other annotation (``list[str]``, a Literal) -> [itself]."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return [annotation]


KINDS = {
    int: Message("an integer"),
    float: Message("a number"),
    str: Message("text"),
    Path: Message("a path"),
    SecretStr: Message("text"),
}
BOUNDS = {
    annotated_types.Gt: ("{} < ", "gt"),
    annotated_types.Ge: ("{} <= ", "ge"),
    annotated_types.Lt: (" < {}", "lt"),
    annotated_types.Le: (" <= {}", "le"),
}


def allowed_values(field: FieldInfo) -> list[Any] | Message:
    """What a setting accepts, for the error that refuses a value: the choices, or the type and its range
    (``a number: 0 < x <= 1``), as a Message the reader's language can show."""
    args = union_members(field.annotation)
    literals = [value for arg in args if typing.get_origin(arg) is Literal for value in typing.get_args(arg)]
    if literals:
        return literals
    if args == [bool]:
        return [True, False]
    kinds = [KINDS.get(arg) or Message("JSON ({type})", type=getattr(arg, "__name__", str(arg))) for arg in args]
    kind = kinds[0] if len(kinds) == 1 else Message("{first} or {second}", first=kinds[0], second=kinds[1])
    lower = upper = ""
    for item in field.metadata:
        for cls, (pattern, attribute) in BOUNDS.items():
            if isinstance(item, cls):
                bound = pattern.format(getattr(item, attribute))
                lower, upper = (bound, upper) if attribute in ("gt", "ge") else (lower, bound)
    if not (lower or upper):
        return kind
    return Message("{kind}: {range}", kind=kind, range=f"{lower}x{upper}")


def parse_value(key: str, raw: str) -> Any:
    """A value as typed on the command line: text settings take it as is, others as JSON (numbers, true/false,
    lists, objects) or, when it is no JSON, as text for the model's own coercion, like a VDB_* variable."""
    args = union_members(Settings.model_fields[key].annotation)
    if all(arg in TEXT_TYPES or typing.get_origin(arg) is Literal for arg in args):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def check_key(key: str) -> None:
    if key not in Settings.model_fields:
        raise ValidationError(
            Message(
                "Unknown setting '{key}'; allowed: {allowed}",
                key=key,
                allowed=", ".join(sorted(set(Settings.model_fields) - set(NOT_IN_FILE))),
            ),
            {"key": key, "allowed": sorted(set(Settings.model_fields) - set(NOT_IN_FILE))},
        )
    if key in NOT_IN_FILE:
        raise ValidationError(
            Message("{key} cannot be set in the configuration file: set {env} instead", key=key, env=env_name(key)),
            {"key": key, "reason": NOT_IN_FILE[key]},
        )


def set_value(key: str, raw: str, path: Path | None = None) -> Any:
    """Validate ``key = raw`` with the whole Settings model and store it; returns the stored value."""
    check_key(key)
    data = read_file(path)
    candidate = {**data, key: parse_value(key, raw)}
    try:
        validated = Settings.model_validate(candidate)  # the model alone: no environment, no file
    except PydanticError as error:
        allowed = allowed_values(Settings.model_fields[key])
        problems = "; ".join(e["msg"] for e in error.errors())
        raise ValidationError(
            Message(
                "Invalid value '{value}' for {key}; allowed: {allowed} ({problem})",
                value=raw,
                key=key,
                allowed=allowed if isinstance(allowed, Message) else ", ".join(map(json.dumps, allowed)),
                problem=problems,
            ),
            {
                "key": key,
                "value": raw,
                "allowed": allowed if isinstance(allowed, list) else str(allowed),
                "errors": [{"loc": list(e["loc"]), "msg": e["msg"]} for e in error.errors()],
            },
        ) from None
    value = getattr(validated, key)
    stored = (
        value.get_secret_value()
        if isinstance(value, SecretStr)
        else validated.model_dump(mode="json", include={key})[key]
    )
    write_file({**data, key: stored}, path)
    return stored


def reset(key: str | None = None, path: Path | None = None) -> list[str]:
    """Remove one key, or the whole file; returns the keys removed (the file's path for a file that does not parse:
    a broken file can always be reset)."""
    path = path or config_file_path()
    if key is None:
        try:
            removed = sorted(read_file(path))
        except ValidationError:
            removed = [str(path)]
        write_file({}, path)
        return removed
    data = read_file(path)
    check_key(key)
    removed = [key] if key in data else []
    data.pop(key, None)
    write_file(data, path)
    return removed


def show(path: Path | None = None) -> list[dict[str, Any]]:
    """Every setting with its effective value and where it comes from: 'env', 'file' or 'default'."""
    path = path or config_file_path()
    data = read_file(path)
    try:
        effective = Settings()
    except PydanticError as error:
        raise ValidationError(
            Message(
                "The settings are invalid: {problem}",
                problem="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()),
            ),
            {},
        ) from None
    except ValueError as error:  # the configuration file itself (unknown key, syntax)
        raise ValidationError(str(error), {"path": str(path)}) from None
    values = effective.model_dump(mode="json")
    rows = []
    for key, field in Settings.model_fields.items():
        source = "env" if env_value(key) is not None else "file" if key in data else "default"
        value = "**********" if isinstance(getattr(effective, key), SecretStr) else values[key]
        rows.append({"key": key, "value": value, "source": source, "description": field.description or ""})
    return rows
