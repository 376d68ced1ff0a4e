"""``seglens serve`` (the web app) and ``seglens users ...`` (its accounts)."""

from __future__ import annotations

import getpass
import logging
import os
from typing import Annotated

import typer

from seglens.cli._app import app, console, emit_json, quiet, sub_app
from seglens.cli._app import log as seglens_log
from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS

__all__ = ["serve", "users"]

users = sub_app("users", "Accounts of the web app: create users, set roles, issue API tokens.")

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL or SQLite path (default: $SEGLENS_DB).")
]


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    target: Annotated[
        float, typer.Option(help="KPI target in percent.")
    ] = DEFAULT_SETTINGS.target_pct,
    margin: Annotated[
        float, typer.Option(help="Audit target margin in points.")
    ] = DEFAULT_SETTINGS.margin_pts,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Address or network of a reverse proxy whose X-Forwarded-For/-Proto are "
            "believed (repeatable; default: none, the headers are ignored).",
        ),
    ] = None,
) -> None:
    """Start the web app (dashboard, review queue, admin, REST API) with uvicorn."""
    import uvicorn

    from seglens.web import Settings, create_app
    from seglens.web.server import (
        KEEP_ALIVE_S,
        MAX_CONNECTIONS,
        MAX_HEADER_BYTES,
        header_timeout_protocol,
    )

    if not quiet():  # a server logs its requests (seglens.web.access) unless -q; on stderr
        seglens_log.setLevel(min(seglens_log.getEffectiveLevel(), logging.INFO))
    web = create_app(
        db,
        settings=Settings(target_pct=target, margin_pts=margin),
        trusted_proxies=tuple(trusted_proxy or ()),
    )
    console.print(f"seglens web app on http://{host}:{port}/ (API docs at /api/docs)")
    # uvicorn's own access log would write raw paths (customer ids) and client addresses:
    # the app logs its own PII-free access line instead. Forwarded headers are the app's
    # business (trusted proxies only), so uvicorn's own handling is off.
    uvicorn.run(
        web,
        host=host,
        port=port,
        access_log=False,
        proxy_headers=False,
        http=header_timeout_protocol(),  # request headers within 10 s, or the connection closes
        timeout_keep_alive=KEEP_ALIVE_S,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=MAX_CONNECTIONS,
    )


def _password(given: str | None) -> str:
    if given:
        return given
    env = os.environ.get("SEGLENS_PASSWORD")
    if env:
        return env
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UsageError("the two passwords differ")
    return first


@users.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="viewer, reviewer, analyst or admin.")] = "viewer",
    admin: Annotated[bool, typer.Option("--admin", help="Shorthand for --role admin.")] = False,
    password: Annotated[
        str | None,
        typer.Option(help="Password (default: $SEGLENS_PASSWORD, else asked twice)."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Create a user (the first admin is made this way)."""
    from seglens.store import open_store
    from seglens.web.users import create_user, current_actor

    with open_store(db) as store:
        uid = create_user(
            store,
            username,
            _password(password),
            role="admin" if admin else role,
            actor=current_actor(),
        )
    console.print(f"created user {username} (id {uid}, role {'admin' if admin else role})")


@users.command("list")
def users_list(
    db: DbOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the users as JSON.")] = False,
) -> None:
    """List users and their roles."""
    from seglens.store import open_store
    from seglens.web.users import list_users

    with open_store(db) as store:
        found = list_users(store)
        if as_json:
            emit_json(
                {
                    "users": [
                        {"id": u.id, "username": u.username, "role": u.role, "active": u.active}
                        for u in found
                    ]
                }
            )
            return
        for u in found:
            state = "active" if u.active else "inactive"
            console.print(f"{u.id:>4}  {u.username:<24} {u.role:<9} {state}")


@users.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="viewer, reviewer, analyst or admin.")],
    db: DbOpt = None,
) -> None:
    """Change a user's role."""
    from seglens.store import open_store
    from seglens.web.users import current_actor, update_user, user_id_of

    with open_store(db) as store:
        update_user(store, user_id_of(store, username), role=role, actor=current_actor())
    console.print(f"{username} is now {role}")


@users.command("reset-password")
def users_reset_password(
    username: Annotated[str, typer.Argument()],
    db: DbOpt = None,
) -> None:
    """Give a user a temporary password (printed once) that they must change at sign-in.

    Their sessions end and their API tokens are revoked, as with the Admin page's reset.
    """
    from seglens.store import open_store
    from seglens.web.users import current_actor, reset_password, user_id_of

    with open_store(db) as store:
        temporary = reset_password(store, user_id_of(store, username), actor=current_actor())
    console.print(f"temporary password for {username} (shown once):", highlight=False)
    console.print(temporary, highlight=False, markup=False, soft_wrap=True)


@users.command("token")
def users_token(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    scope: Annotated[
        str, typer.Option(help="read, label (also posts labels) or admin (the user's full role).")
    ] = "read",
    days: Annotated[int, typer.Option(min=1, max=366, help="Days until it expires.")] = 90,
    db: DbOpt = None,
) -> None:
    """Issue an API token for a user and print it (once: only its hash is stored)."""
    from datetime import timedelta

    from seglens.store import open_store
    from seglens.web.users import create_token, current_actor, user_id_of

    with open_store(db) as store:
        secret = create_token(
            store,
            user_id_of(store, username),
            name,
            scope=scope,
            ttl=timedelta(days=days),
            actor=current_actor(),
        )
    console.print(secret, highlight=False, soft_wrap=True)
