"""Re-encrypting ID numbers under the newest key and recomputing duplicate-check hashes, in batches.

Both are resumable: rows already done are recognised and skipped. They take the model class, so the data
migration can pass its historical model.
"""

from django.db import transaction

from campaigns import crypto
from campaigns.idcard import mask_id_number, normalise_id
from campaigns.models.enrolments import ID_TAIL_PREFIX

CONFLICT = "conflict"


def _batches(model, batch_size, fields):
    last = 0
    while True:
        rows = list(model.objects.filter(pk__gt=last).order_by("pk").values_list("pk", *fields)[:batch_size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def rotate_rows(model, batch_size=500, log=print):
    """Re-encrypt every row not yet under the newest key; returns (checked, rotated, unreadable pks)."""
    total = model.objects.count()
    checked = rotated = 0
    unreadable = []
    for rows in _batches(model, batch_size, ["id_number_encrypted"]):
        with transaction.atomic():
            for pk, token in rows:
                if crypto.is_current(token):
                    continue
                try:
                    new_token = crypto.rotate(token)
                except crypto.DecryptionError:
                    unreadable.append(pk)
                    continue
                model.objects.filter(pk=pk, id_number_encrypted=token).update(id_number_encrypted=new_token)
                rotated += 1
        checked += len(rows)
        log(f"已检查 {checked}/{total} 行，本次重新加密 {rotated} 行，无法解密 {len(unreadable)} 行")
    return checked, rotated, unreadable


def rehash_rows(model, batch_size=500, log=print):
    """Recompute the duplicate-check hash of every row with ENROLMENT_HASH_KEY (and store the ID normalised).

    A row whose normalised ID now matches an earlier enrolment of the same campaign becomes a 待核实 conflict
    of it, as a new submission would. Returns (checked, updated, conflicts, unreadable pks)."""
    total = model.objects.count()
    checked = updated = conflicts = 0
    unreadable = []
    has_tail = any(field.name == "id_tail_hash" for field in model._meta.get_fields())
    for rows in _batches(model, batch_size, ["id_number_encrypted", "id_number_hash", "campaign_id",
                                             "conflict_of_id"]):
        with transaction.atomic():
            for pk, token, old_hash, campaign_id, conflict_of_id in rows:
                try:
                    stored = crypto.decrypt(token)
                except crypto.DecryptionError:
                    unreadable.append(pk)
                    continue
                number = normalise_id(stored)
                new_hash = crypto.lookup_hash(number)
                if new_hash == old_hash and number == stored:
                    continue
                changes = {"id_number_hash": new_hash}
                if has_tail:  # the lookup's tail hash uses the same key (absent before migration 0005)
                    changes["id_tail_hash"] = crypto.lookup_hash(ID_TAIL_PREFIX + number[-6:])
                if number != stored:
                    changes |= {"id_number_encrypted": crypto.encrypt(number),
                                "id_number_masked": mask_id_number(number)}
                if conflict_of_id is None:
                    first = (model.objects.filter(campaign_id=campaign_id, id_number_hash=new_hash, conflict_of=None)
                             .exclude(pk=pk).order_by("pk").values_list("pk", flat=True).first())
                    if first is not None:
                        changes |= {"conflict_of_id": first, "status": CONFLICT}
                        model.objects.filter(conflict_of_id=pk).update(conflict_of_id=first)
                        conflicts += 1
                model.objects.filter(pk=pk).update(**changes)
                updated += 1
        checked += len(rows)
        log(f"已检查 {checked}/{total} 行，本次更新摘要 {updated} 行，新发现冲突 {conflicts} 行，"
            f"无法解密 {len(unreadable)} 行")
    return checked, updated, conflicts, unreadable
