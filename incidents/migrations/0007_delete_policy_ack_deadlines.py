# Its own migration: rows deleted in the same transaction as the ALTER TABLE of 0008 would leave
# PostgreSQL with pending trigger events.

from django.db import migrations


def delete_policy_ack_deadlines(apps, schema_editor):
    # Nothing ever created these (policy reminders are Notifications) and they had no effect when fired;
    # remove any stray row before the constraint stops allowing the kind.
    apps.get_model("incidents", "Deadline").objects.filter(kind="policy_ack").delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_timeline_status_choices")]

    operations = [migrations.RunPython(delete_policy_ack_deadlines, migrations.RunPython.noop)]
