"""Random case references and random file ids (issue item 3: sequential numbers revealed hidden cases).

Every existing case gets a new random reference; its old one (OAK-2026-0042) is kept in
`legacy_reference`, never shown, so a reference printed on an old letter still finds the case.
Every evidence file gets a random public id for its URLs. The (school, year, sequence) counter goes.
"""

import uuid

from django.db import migrations, models


def renumber(apps, schema_editor):
    from incidents.references import is_canonical, new_reference

    Incident = apps.get_model("incidents", "Incident")
    Evidence = apps.get_model("incidents", "Evidence")
    taken = set(Incident.objects.values_list("reference", flat=True))
    for incident in Incident.objects.select_related("school").order_by("pk").iterator():
        if is_canonical(incident.reference):
            continue
        reference = new_reference(incident.school.code)
        while reference in taken:
            reference = new_reference(incident.school.code)
        taken.add(reference)
        Incident.objects.filter(pk=incident.pk).update(legacy_reference=incident.reference, reference=reference)
    for pk in Evidence.objects.filter(public_id__isnull=True).values_list("pk", flat=True).iterator():
        Evidence.objects.filter(pk=pk).update(public_id=uuid.uuid4())


def restore(apps, schema_editor):
    """Back to the old references where there was one (new cases keep their random one)."""
    Incident = apps.get_model("incidents", "Incident")
    for pk, legacy in Incident.objects.exclude(legacy_reference="").values_list("pk", "legacy_reference"):
        Incident.objects.filter(pk=pk).update(reference=legacy)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_head_subject_routing_and_review_duties"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="legacy_reference",
            field=models.CharField(blank=True, db_index=True, max_length=20),
        ),
        migrations.AddField(
            model_name="evidence",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(renumber, restore),
        migrations.AlterField(
            model_name="evidence",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.RemoveConstraint(
            model_name="incident",
            name="incident_unique_sequence",
        ),
        migrations.RemoveField(
            model_name="incident",
            name="sequence",
        ),
        migrations.RemoveField(
            model_name="incident",
            name="year",
        ),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.CheckConstraint(
                condition=models.Q(("reference", ""), _negated=True), name="incident_reference_present"
            ),
        ),
    ]
