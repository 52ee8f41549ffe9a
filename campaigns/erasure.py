"""「删除该单位个人信息」: a unit's (or one member's) collective-enrolment data and files, erased and logged."""

from django.db import transaction
from django.db.models import Q

from campaigns import crypto, roster
from campaigns.idcard import mask_id_number, validate_id_number


def erase_unit(unit, actor):
    """Delete every enrolment the unit made, its staged lines and its files; the uploads keep only counts."""
    from campaigns.models import AuditAction, Enrolment, EnrolmentAuditLog, RosterRow, RosterStatus, RosterUpload

    with transaction.atomic():
        uploads = RosterUpload.objects.select_for_update().filter(unit=unit)
        files = [path for path in uploads.values_list("file_path", flat=True) if path]
        rows = RosterRow.objects.filter(upload__unit=unit).delete()[0]
        enrolments = Enrolment.objects.filter(unit=unit)
        count = enrolments.count()
        enrolments.delete()
        uploads.update(status=RosterStatus.ERASED, file_path="", file_sha256="", original_name="（已删除）")
        EnrolmentAuditLog.objects.create(actor=actor, actor_name=actor.get_username(), action=AuditAction.ERASE_UNIT,
                                         unit=unit, row_count=count,
                                         note=f"删除报名{count}条、名单行{rows}条、文件{len(files)}个")
        transaction.on_commit(lambda: [roster.delete_file(path) for path in files])
    return {"enrolments": count, "rows": rows, "files": len(files)}


def erase_member(unit, id_number, actor, name=""):
    """Delete one member's enrolments made by the unit and their lines; their rows are blanked in stored files."""
    from campaigns.models import AuditAction, Enrolment, EnrolmentAuditLog, RosterRow, RosterUpload

    number = validate_id_number(id_number)
    id_hash = crypto.lookup_hash(number)
    with transaction.atomic():
        match = Q(id_number_hash=id_hash)
        if name:
            match |= Q(id_number_hash="", name=name, id_number_masked=mask_id_number(number))
        rows = RosterRow.objects.filter(match, upload__unit=unit)
        by_upload = {}
        for upload_id, row_number in rows.values_list("upload_id", "row_number"):
            by_upload.setdefault(upload_id, []).append(row_number)
        row_count = rows.delete()[0]
        enrolments = Enrolment.objects.filter(unit=unit, id_number_hash=id_hash)
        count = enrolments.count()
        enrolments.delete()
        for upload in RosterUpload.objects.filter(pk__in=by_upload):
            roster.blank_rows_in_file(upload, by_upload[upload.pk])
        EnrolmentAuditLog.objects.create(actor=actor, actor_name=actor.get_username(),
                                         action=AuditAction.ERASE_MEMBER, unit=unit, row_count=count,
                                         note=f"删除报名{count}条、名单行{row_count}条，清除{len(by_upload)}个文件中的对应行")
    return {"enrolments": count, "rows": row_count, "files": len(by_upload)}
