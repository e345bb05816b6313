"""For the tests of data migrations: the database taken back to a migration, and forward
to the current schema afterwards."""

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(target: tuple[str, str]) -> Apps:
    """Migrate the database to `target` (application, migration) and give the models as
    they stood there."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
