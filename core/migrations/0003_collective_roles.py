from django.db import migrations

from core.roles import grant_collective_roles


def grant(apps, schema_editor):
    grant_collective_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_background_job"),
        ("campaigns", "0006_audit_full_id_views"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
