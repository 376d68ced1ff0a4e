"""Alembic environment: runs migrations on the connection seglens hands over."""

from __future__ import annotations

from alembic import context
from alembic.config import Config

from seglens.store.models import Base


def _run(config: Config) -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run seglens migrations with `seglens db upgrade`, not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


try:
    _config: Config | None = context.config
except AttributeError:  # imported outside a migration (e.g. by doctest collection)
    _config = None
if _config is not None:
    _run(_config)
