"""`vid-bench auth`: API keys and users, locally on the data directory or through a gateway with --url."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.table import Table

from cli.common import ApiKeyOption, UrlOption, _, app_errors_exit_2, console, err_console

if TYPE_CHECKING:
    from app.config import Tier

app = typer.Typer(
    help="API keys and users: locally on the data directory, or through a gateway with --url.", no_args_is_help=True
)


def local_authenticator():
    from app.config import get_settings
    from app.security.auth import Authenticator
    from app.storage.database import get_database

    settings = get_settings()
    settings.ensure_dirs()
    return Authenticator(settings, get_database(settings.resolved_database_url))


def key_row(view: dict) -> list[str]:
    return [
        view["key_id"],
        view["name"],
        view["prefix"] + "...",
        ",".join(view["permissions"]),
        view["tier"],
        view["status"],
        str(view.get("expires_at") or "-"),
        str(view.get("last_used_at") or "-"),
    ]


@app.command("create-key")
@app_errors_exit_2
def auth_create_key(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    permission: Annotated[list[str], typer.Option("--permission", "-p", help="A scope; repeat for several.")],
    tier: Annotated[str, typer.Option(help="free | pro | enterprise")] = "free",
    expires_in_days: Annotated[int | None, typer.Option(min=1, help="Days until the key stops working.")] = None,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
):
    """Create an API key and print it (the only time it is shown)."""
    from datetime import timedelta

    if url:
        from vid_diffusion_bench.client import VidBenchClient

        with VidBenchClient(url, api_key=api_key) as client:
            # a str from the command line: the server refuses an unknown tier
            created = client.create_api_key(name, permission, cast("Tier", tier), expires_in_days)
        key_id, key = created["key_id"], created["key"]
    else:
        from app.storage.tables import utcnow

        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        row, key = local_authenticator().keys.create(name, permission, tier, expires, created_by="cli")
        key_id = row.id
    err_console.print(_("created {key_id}; store the key now, it is not shown again:", key_id=key_id))
    print(key)


@app.command("list-keys")
@app_errors_exit_2
def auth_list_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    url: UrlOption = None,
    api_key: ApiKeyOption = None,
):
    """List API keys (never the keys themselves: only their first characters)."""
    if url:
        from vid_diffusion_bench.client import VidBenchClient

        with VidBenchClient(url, api_key=api_key) as client:
            views = client.list_api_keys(include_revoked)["api_keys"]
    else:
        from app.api.schemas.auth import ApiKeyView

        rows = local_authenticator().store.list_keys(include_revoked=include_revoked)
        views = [ApiKeyView.from_key(r).model_dump(mode="json") for r in rows]  # same text as the gateway's
    table = Table("id", _("name"), _("key"), _("permissions"), _("tier"), _("status"), _("expires"), _("last used"))
    for view in views:
        table.add_row(*key_row(view))
    console.print(table)


@app.command("revoke-key")
@app_errors_exit_2
def auth_revoke_key(key_id: str, url: UrlOption = None, api_key: ApiKeyOption = None):
    """Revoke an API key; requests with it are refused from now on."""
    if url:
        from vid_diffusion_bench.client import VidBenchClient

        with VidBenchClient(url, api_key=api_key) as client:
            client.revoke_api_key(key_id)
    else:
        local_authenticator().store.revoke_key(key_id)
    console.print(_("revoked {key_id}", key_id=key_id))


@app.command("create-user")
@app_errors_exit_2
def auth_create_user(
    username: Annotated[str, typer.Option(help="Login name.")],
    permission: Annotated[list[str], typer.Option("--permission", "-p", help="A scope; repeat for several.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="VDB_NEW_USER_PASSWORD",
            help="At least 12 characters.",
        ),
    ],
    tier: Annotated[str, typer.Option(help="free | pro | enterprise")] = "free",
):
    """Create a user who logs in at POST /api/v1/auth/login (on the local data directory)."""
    row = local_authenticator().users.create(username, password, permission, tier)
    console.print(_("created user {username} ({user_id})", username=row.username, user_id=row.id))
