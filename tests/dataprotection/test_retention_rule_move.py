"""RetentionRule moved from incidents to dataprotection without moving its data (dataprotection
0001, incidents 0011): a database that had rules before the move keeps them, in the same table, and
the model's content type (which permissions and admin history hang on) follows the model."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dataprotection.models import RetentionRule
from incidents.models import Category
from tests.migrate import migrate_to

LAST_BEFORE = ("incidents", "0010_random_references_and_public_ids")
BEFORE = [LAST_BEFORE, ("dataprotection", None)]


def _migrate(targets) -> None:
    migrate_to(targets)


def _models_before():
    return MigrationExecutor(connection).loader.project_state(LAST_BEFORE, at_end=True).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_rules_written_before_the_move_are_there_after_it():
    _migrate(BEFORE)
    old = _models_before()
    assert old.get_model("incidents", "RetentionRule")._meta.db_table == "incidents_retentionrule"
    old.get_model("incidents", "RetentionRule").objects.create(category=Category.PARENT_POST, years_after_closure=2)
    ContentType.objects.filter(app_label="dataprotection", model="retentionrule").delete()
    before = ContentType.objects.get_or_create(app_label="incidents", model="retentionrule")[0]
    try:
        _migrate(_leaves())
    finally:
        ContentType.objects.clear_cache()
    assert list(RetentionRule.objects.values_list("category", "years_after_closure")) == [(Category.PARENT_POST, 2)]
    after = ContentType.objects.get_for_model(RetentionRule)
    assert (after.pk, after.app_label) == (before.pk, "dataprotection")
    assert not ContentType.objects.filter(app_label="incidents", model="retentionrule").exists()
