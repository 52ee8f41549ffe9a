"""Duplicate-check hashes move to their own key (ENROLMENT_HASH_KEY) and to normalised ID numbers.

Recomputes every stored hash (decrypting with the configured keys); same code as manage.py rehash_enrolments.
"""

from django.db import migrations


def rehash(apps, schema_editor):
    from campaigns.keymaintenance import rehash_rows

    Enrolment = apps.get_model("campaigns", "Enrolment")
    if not Enrolment.objects.exists():
        return
    _, _, _, unreadable = rehash_rows(Enrolment, log=lambda line: None)
    if unreadable:
        raise RuntimeError(f"{len(unreadable)} 条报名的身份证号无法用已配置的密钥（ENROLMENT_KEYS / ENROLMENT_KEY）解密，"
                           "摘要无法重新计算。请配置正确的密钥后重新运行 migrate。")


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0002_integrity"),
    ]

    operations = [
        migrations.RunPython(rehash, migrations.RunPython.noop, elidable=False),
    ]
