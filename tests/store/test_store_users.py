"""Web accounts in the store: users, sessions and API tokens, with the values each call returns."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seglens.errors import UsageError
from seglens.store import (
    account_for_session,
    account_for_token,
    add_api_token,
    add_session,
    add_user,
    drop_session,
    find_login,
    get_user,
    list_api_tokens,
    list_audit,
    list_users,
    open_store,
    record_login,
    revoke_api_token,
    set_password_hash,
    update_user,
    user_id_of,
)

S1, S2, T1 = "1" * 64, "2" * 64, "3" * 64


def test_users_are_created_listed_and_found(db_url: str) -> None:
    with open_store(db_url) as store:
        bo = add_user(store, "bo", "hash-b", role="admin", actor="root")
        ana = add_user(store, " ana ", "hash-a")
        users = list_users(store)
        login = find_login(store, "ana ")
        assert find_login(store, "nobody") is None and get_user(store, 999) is None
        assert (user_id_of(store, "bo"), get_user(store, ana)) == (bo, users[0])
        with pytest.raises(UsageError, match="already exists"):
            add_user(store, "ana", "x")
        with pytest.raises(UsageError, match="unknown role"):
            add_user(store, "cy", "x", role="owner")
        with pytest.raises(UsageError, match="without spaces"):
            add_user(store, "c y", "x")
        with pytest.raises(UsageError, match="no user named"):
            user_id_of(store, "nobody")
        audit = list_audit(store)
    assert [(u.id, u.username, u.role, u.active, u.last_login_at) for u in users] == [
        (ana, "ana", "viewer", True, None),
        (bo, "bo", "admin", True, None),
    ]
    assert login is not None
    assert (login.user_id, login.username, login.role, login.active) == (ana, "ana", "viewer", True)
    assert login.password_hash == "hash-a"
    assert audit.filter(action="user.create")["actor"].to_list() == ["system", "root"]


def test_login_is_recorded_and_a_rehash_stored(db_url: str) -> None:
    with open_store(db_url) as store:
        uid = add_user(store, "ana", "old")
        record_login(store, uid)
        kept = find_login(store, "ana")
        record_login(store, uid, new_password_hash="new")
        after = find_login(store, "ana")
        user = get_user(store, uid)
    assert kept is not None and kept.password_hash == "old"
    assert after is not None and after.password_hash == "new"
    assert user is not None and user.last_login_at is not None


def test_sessions_live_until_expiry_logout_or_deactivation(db_url: str) -> None:
    with open_store(db_url) as store:
        uid = add_user(store, "ana", "h", role="reviewer")
        add_session(store, uid, S1, ttl=timedelta(hours=1), actor="ana")
        add_session(store, uid, S2, ttl=timedelta(seconds=-1), actor="ana")  # already over
        live = account_for_session(store, S1)
        assert account_for_session(store, S2) is None
        drop_session(store, S1, actor="ana")
        assert account_for_session(store, S1) is None
        add_session(store, uid, S1, ttl=timedelta(hours=1), actor="ana")
        update_user(store, uid, active=False, actor="root")
        assert account_for_session(store, S1) is None
        update_user(store, uid, active=True, actor="root")
        assert account_for_session(store, S1) is None  # deactivation ended the session
        add_session(store, uid, S1, ttl=timedelta(hours=1), actor="ana")
        set_password_hash(store, uid, "other", actor="root")
        assert account_for_session(store, S1) is None  # a new password ends sessions too
        actions = list_audit(store)["action"].to_list()
    assert live is not None and (live.user_id, live.username, live.role) == (uid, "ana", "reviewer")
    assert actions.count("session.login") == 4 and actions.count("session.logout") == 1
    assert actions.count("user.update") == 2 and actions.count("user.password") == 1


def test_the_last_active_admin_stays(db_url: str) -> None:
    with open_store(db_url) as store:
        root = add_user(store, "root", "h", role="admin")
        with pytest.raises(UsageError, match="last active admin"):
            update_user(store, root, role="analyst")
        with pytest.raises(UsageError, match="last active admin"):
            update_user(store, root, active=False)
        other = add_user(store, "bo", "h", role="admin")
        update_user(store, root, role="analyst")
        with pytest.raises(UsageError, match="no user with id"):
            update_user(store, 999, role="viewer")
        roles = {u.username: u.role for u in list_users(store)}
    assert roles == {"root": "analyst", "bo": "admin"} and other != root


def test_api_tokens_are_listed_touched_and_revoked(db_url: str) -> None:
    with open_store(db_url) as store:
        uid = add_user(store, "ana", "h", role="analyst")
        tid = add_api_token(store, uid, name="  ci  ", prefix="slt_abcdef", token_hash=T1)
        blank = add_api_token(store, uid, name=" ", prefix="slt_zzzzzz", token_hash=S2)
        with pytest.raises(UsageError, match="no user with id"):
            add_api_token(store, 999, name="x", prefix="p", token_hash=S1)
        before = list_api_tokens(store, uid)
        who = account_for_token(store, T1)
        touched = list_api_tokens(store)[1].last_used_at
        account_for_token(store, T1)  # within touch_after: last_used_at is not rewritten
        same = list_api_tokens(store)[1].last_used_at
        revoke_api_token(store, tid, actor="root")
        revoke_api_token(store, tid, actor="root")  # twice is once
        gone = account_for_token(store, T1)
        with pytest.raises(UsageError, match="no API token"):
            revoke_api_token(store, 999)
        after = list_api_tokens(store)
        revokes = list_audit(store).filter(action="token.revoke").height
    assert [(t.id, t.username, t.name, t.prefix) for t in before] == [
        (blank, "ana", "token", "slt_zzzzzz"),
        (tid, "ana", "ci", "slt_abcdef"),
    ]
    assert before[1].last_used_at is None and before[1].revoked_at is None
    assert who is not None and (who.user_id, who.username, who.role) == (uid, "ana", "analyst")
    assert touched is not None and same == touched
    assert gone is None and after[1].revoked_at is not None and revokes == 1
