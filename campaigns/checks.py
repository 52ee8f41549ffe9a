"""Start-up checks: enrolment keys well formed and able to read (and hash) the data already stored."""

from django.core.checks import Error, register
from django.db import DatabaseError, connection

from campaigns import crypto

REHASH_MIGRATION = ("campaigns", "0003_rehash_id_numbers")


@register()
def enrolment_keys(app_configs=None, **kwargs):
    if app_configs is not None and "campaigns" not in {config.label for config in app_configs}:
        return []
    errors = []
    for check_id, load in (("campaigns.E001", crypto.fernet_keys), ("campaigns.E002", crypto.hash_key)):
        try:
            load()
        except crypto.EnrolmentKeyError as error:
            errors.append(Error(str(error), id=check_id))
    return errors or stored_data_errors()


def _sample_rows():
    """The oldest and newest stored enrolment (pk, token, hash), or [] without a readable table."""
    from campaigns.models import Enrolment

    try:
        if Enrolment._meta.db_table not in connection.introspection.table_names():
            return []
        rows = Enrolment.objects.order_by("pk").values_list("pk", "id_number_encrypted", "id_number_hash")
        return list({row[0]: row for row in (rows.first(), rows.last()) if row}.values())
    except DatabaseError:  # no database yet: other checks and migrate say so
        return []


def _rehash_applied():
    from django.db.migrations.recorder import MigrationRecorder

    try:
        return REHASH_MIGRATION in MigrationRecorder(connection).applied_migrations()
    except DatabaseError:
        return False


def stored_data_errors():
    from campaigns.idcard import normalise_id

    rows = _sample_rows()
    for pk, token, _ in rows:
        try:
            crypto.decrypt(token)
        except crypto.DecryptionError:
            return [Error(
                f"已配置的加密密钥（ENROLMENT_KEYS / ENROLMENT_KEY）无法解密数据库中已存储的身份证号"
                f"（报名记录 id {pk}）。",
                hint="请使用加密这些数据时的密钥；轮换密钥时把新密钥放在 ENROLMENT_KEYS 最前、旧密钥保留在后，"
                     "运行 manage.py rotate_enrolment_key 之后才能删去旧密钥。",
                id="campaigns.E003")]
    if rows and _rehash_applied():
        for pk, token, stored_hash in rows:
            if crypto.lookup_hash(normalise_id(crypto.decrypt(token))) != stored_hash:
                return [Error(
                    f"ENROLMENT_HASH_KEY 与数据库中已存储的身份证号摘要不符（报名记录 id {pk}），重复报名检测将失效。",
                    hint="请使用原来的 ENROLMENT_HASH_KEY；若有意更换，运行 manage.py rehash_enrolments 重新计算摘要。",
                    id="campaigns.E004")]
    return []
