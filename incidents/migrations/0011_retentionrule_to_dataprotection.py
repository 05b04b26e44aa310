"""RetentionRule now belongs to dataprotection (its migration 0001); the table stays as it is."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0010_random_references_and_public_ids'),
        ('dataprotection', '0001_retentionrule_from_incidents'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='RetentionRule',
                ),
            ],
            database_operations=[],
        ),
    ]
