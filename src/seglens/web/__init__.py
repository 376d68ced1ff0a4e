"""The seglens web app: KPI dashboard, review workflow and REST API over the store.

Start it with ``seglens serve``; build it in code with :func:`create_app`. See ``docs/web.md``.
"""

from __future__ import annotations

from seglens.web.app import create_app
from seglens.web.service import Settings
from seglens.web.users import (
    ROLES,
    Principal,
    create_token,
    create_user,
    list_users,
    revoke_token,
    update_user,
)

__all__ = [
    "ROLES",
    "Principal",
    "Settings",
    "create_app",
    "create_token",
    "create_user",
    "list_users",
    "revoke_token",
    "update_user",
]
