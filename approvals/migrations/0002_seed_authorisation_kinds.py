"""The kinds of authorisation the five source policies ask for (more can be added in the admin)."""

from django.db import migrations

KINDS = [
    ("post-on-official-account", "Posting school business or images on an official account", True, True),
    ("speak-to-media", "Speaking to the media on the school's behalf", False, False),
    ("professional-reference", "Giving a professional reference on the school's behalf", False, False),
    ("contact-parents-social", "Contacting parents through social media", False, False),
    ("personal-device", "Using a personal device or account for school work", False, False),
]


def seed(apps, schema_editor):
    kind = apps.get_model("approvals", "AuthorisationKind")
    for order, (slug, label, consent_check, names_account) in enumerate(KINDS, start=1):
        kind.objects.update_or_create(
            slug=slug,
            defaults={"label": label, "consent_check": consent_check, "names_account": names_account, "order": order},
        )


def unseed(apps, schema_editor):
    apps.get_model("approvals", "AuthorisationKind").objects.filter(slug__in=[k[0] for k in KINDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_official_accounts_and_authorisations")]

    operations = [migrations.RunPython(seed, unseed)]
