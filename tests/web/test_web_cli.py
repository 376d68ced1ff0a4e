"""``seglens users ...`` and ``seglens serve`` (through the Typer app, in-process)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import seglens.cli.web_cmd  # noqa: F401  (registers serve and users until cli/__init__ does)
from seglens.cli._app import app
from seglens.store import list_audit, open_store
from seglens.web.users import authenticate, list_tokens, list_users, principal_for_token


def test_first_admin_then_roles_and_a_token(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    made = runner.invoke(
        app, ["users", "create", "boss", "--admin", "--password", "a long password!", "--db", db]
    )
    assert made.exit_code == 0, made.output
    runner.invoke(app, ["users", "create", "rita", "--password", "another password", "--db", db])
    assert runner.invoke(app, ["users", "set-role", "rita", "reviewer", "--db", db]).exit_code == 0
    token = runner.invoke(app, ["users", "token", "rita", "--db", db]).output.strip()
    labelling = runner.invoke(
        app, ["users", "token", "rita", "--scope", "label", "--days", "30", "--db", db]
    ).output.strip()
    with open_store(db) as store:
        roles = {u.username: u.role for u in list_users(store)}
        assert roles == {"boss": "admin", "rita": "reviewer"}
        assert authenticate(store, "boss", "a long password!") is not None
        who = principal_for_token(store, token)  # default scope: read
        assert who is not None and (who.username, who.role, who.scope) == ("rita", "viewer", "read")
        who = principal_for_token(store, labelling)
        assert who is not None and (who.role, who.scope) == ("reviewer", "label")
        made_at, expires = next((t.created_at, t.expires_at) for t in list_tokens(store))
        assert expires is not None and (expires - made_at).days == 30
        assert {"user.create", "user.update", "token.create"} <= set(list_audit(store)["action"])
    listed = runner.invoke(app, ["users", "list", "--db", db]).output
    assert "boss" in listed and "reviewer" in listed


def test_user_errors_are_clean(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    short = runner.invoke(app, ["users", "create", "x", "--password", "short", "--db", db])
    assert short.exit_code == 2 and "at least 10 characters" in short.output
    role = runner.invoke(app, ["users", "set-role", "nobody", "admin", "--db", db])
    assert role.exit_code == 2 and "no user named" in role.output


def test_serve_help_documents_the_options() -> None:
    out = CliRunner().invoke(app, ["serve", "--help"]).output
    for option in ("--db", "--host", "--port"):
        assert option in out


def test_reset_password_prints_a_temporary_password_that_must_be_changed(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    runner.invoke(app, ["users", "create", "rita", "--password", "another password", "--db", db])
    out = runner.invoke(app, ["users", "reset-password", "RITA", "--db", db])
    assert out.exit_code == 0, out.output
    first, temporary = out.output.strip().splitlines()
    assert first == "temporary password for RITA (shown once):"
    with open_store(db) as store:
        assert authenticate(store, "rita", "another password") is None
        who = authenticate(store, "rita", temporary)
        assert who is not None and who.must_change_password
        assert "user.password_reset" in set(list_audit(store)["action"])
    missing = runner.invoke(app, ["users", "reset-password", "nobody", "--db", db])
    assert missing.exit_code == 2 and "no user named 'nobody'" in missing.output
