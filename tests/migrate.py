"""Migrating a test database to a chosen state the way `manage.py migrate` does: the figures'
triggers removed first (pre_migrate) and installed again after (post_migrate, reporting/stamps.py).
A trigger names the latest tables; SQLite rebuilds a table to alter it."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from reporting import stamps


def migrate_to(targets) -> MigrationExecutor:
    stamps.uninstall()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    stamps.install()
    return executor


def migrate_to_latest() -> None:
    migrate_to(MigrationExecutor(connection).loader.graph.leaf_nodes())
