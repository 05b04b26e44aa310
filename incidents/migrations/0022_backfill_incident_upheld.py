# Its own migration: rows changed in the same transaction as the ALTER TABLE of 0021 could leave
# PostgreSQL with pending trigger events (as 0007).

from django.db import migrations
from django.db.models import Exists, OuterRef


def mark_upheld(apps, schema_editor):
    # The cases the board upheld before Incident.upheld existed: those with an upholding review.
    incident = apps.get_model("incidents", "Incident")
    review = apps.get_model("incidents", "GovernorReview")
    upholding = review.objects.filter(incident=OuterRef("pk"), decision="uphold")
    incident.objects.filter(Exists(upholding), upheld=False).update(upheld=True)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0021_incident_upheld")]

    operations = [migrations.RunPython(mark_upheld, migrations.RunPython.noop)]
