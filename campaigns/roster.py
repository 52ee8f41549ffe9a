"""Collective enrolment: the campaign's Excel template, reading an uploaded roster, preview and confirmation.

A roster is read streaming (openpyxl read-only) in batches of BATCH rows: each batch is validated, compared with
the campaign's enrolments and staged as RosterRow lines, so memory stays bounded whatever the file holds.
Confirmation turns the staged lines into ordinary Enrolment rows in one transaction.
"""

import datetime
import hashlib
import io
import logging
import os
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaigns import crypto
from campaigns.idcard import IdNumberError, is_valid_mobile, mask_id_number, normalise_mobile, validate_id_number

logger = logging.getLogger(__name__)

MAX_ROWS = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
BATCH = 500
DATA_SHEET = "报名名单"
HELP_SHEET = "填写说明"
CODES_SHEET = "代码表"
GENDERS = ["男", "女"]
CATEGORIES = ["在职职工", "劳务派遣人员", "农民工", "退休职工", "其他"]
DELIVERIES = {"到所属工会自取": "pickup", "邮寄到家": "delivery"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterFileError(ValueError):
    """The file as a whole cannot be used (Chinese message for the agent)."""


@dataclass
class Column:
    key: str
    title: str
    required: bool = True
    choices: list = field(default_factory=list)
    text: bool = False
    width: int = 14
    note: str = ""


def columns_for(block_value):
    kind = block_value.get("form_kind", "mutual_aid")
    columns = [
        Column("name", "姓名", width=10),
        Column("id_number", "身份证号", text=True, width=22, note="18位，末位可为 X；请保持文本格式，不要转成数字"),
        Column("gender", "性别", choices=GENDERS, width=8, note="须与身份证号一致"),
        Column("mobile", "手机号码", text=True, width=15, note="11位大陆手机号码，用于接收审核短信"),
        Column("category", "人员类别", choices=CATEGORIES, width=14),
        Column("employer", "工作单位", required=False, width=24, note="留空则填本基层工会名称"),
    ]
    if kind == "mutual_aid":
        plans = [str(option) for option in block_value.get("plan_options") or []]
        max_shares = block_value.get("max_shares") or 5
        columns += [
            Column("plan", "互助方案", required=bool(plans), choices=plans, width=30),
            Column("shares", "份数", width=8, note=f"整数，1至{max_shares}份"),
        ]
    else:
        columns += [
            Column("membership_number", "会员证号", required=False, text=True, width=16),
            Column("delivery", "领取方式", choices=list(DELIVERIES), width=16),
            Column("address", "邮寄地址", required=False, width=30, note="选择“邮寄到家”时必填"),
        ]
    return columns


def header_text(column):
    return f"{column.title}（必填）" if column.required else column.title


def template_keywords(campaign, block_id):
    return f"campaign:{campaign.pk};block:{block_id}"


# --- the template ---------------------------------------------------------------------------------------------


def build_template(campaign, block, unit):
    """The campaign form's roster template as .xlsx bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = columns_for(block.value)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    codes = workbook.create_sheet(CODES_SHEET)
    guide = workbook.create_sheet(HELP_SHEET)
    workbook.properties.title = f"{campaign.title} · {block.value['title']} 名单模板"
    workbook.properties.keywords = template_keywords(campaign, block.id)

    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE9E7")
    last_row = MAX_ROWS + 1
    code_column = 0
    for index, column in enumerate(columns, 1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=header_text(column))
        cell.font = bold
        cell.alignment = Alignment(horizontal="center")
        if column.required:
            cell.fill = required_fill
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
            for row in range(2, last_row + 1):
                sheet.cell(row=row, column=index).number_format = "@"
        if column.choices:
            code_column += 1
            code_letter = get_column_letter(code_column)
            codes.cell(row=1, column=code_column, value=column.title).font = bold
            for position, choice in enumerate(column.choices, 2):
                codes.cell(row=position, column=code_column, value=choice)
            reference = f"{quote_sheetname(CODES_SHEET)}!${code_letter}$2:${code_letter}${len(column.choices) + 1}"
            validation = DataValidation(type="list", formula1=reference, allow_blank=not column.required,
                                        showErrorMessage=True, errorTitle="请从列表中选择",
                                        error=f"“{column.title}”请从下拉列表中选择。",
                                        showInputMessage=True, promptTitle=column.title,
                                        prompt="请从下拉列表中选择")
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
        if column.key == "shares":
            max_shares = block.value.get("max_shares") or 5
            validation = DataValidation(type="whole", operator="between", formula1="1", formula2=str(max_shares),
                                        showErrorMessage=True, errorTitle="份数无效",
                                        error=f"份数请填写1至{max_shares}之间的整数。")
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    codes.sheet_state = "hidden"

    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 80
    lines = [
        ("活动", campaign.title),
        ("表单", block.value["title"]),
        ("基层工会", unit.name),
        ("", ""),
        ("填写要求", f"在“{DATA_SHEET}”表第2行起每行填写一名会员，最多 {MAX_ROWS} 行；不要修改第1行表头。"),
        ("", "标“（必填）”的列必须填写；有下拉列表的列请从列表中选择。"),
        ("", "同一身份证号在一个文件中只能出现一次。已报名的会员（包括本人在网上报名的）会被自动跳过。"),
        ("", "上传后先显示预检结果，确认无误后再提交；发现错误可修改文件后重新上传，已提交的同一会员会被更新。"),
        ("", "名单含个人信息，请妥善保管，勿通过微信群等公开渠道传送。"),
        ("", ""),
        ("列", "说明"),
    ]
    for column in columns:
        detail = "必填" if column.required else "选填"
        if column.choices:
            detail += "；可选：" + "、".join(column.choices)
        if column.note:
            detail += "；" + column.note
        lines.append((column.title, detail))
    for row, (label, text) in enumerate(lines, 1):
        guide.cell(row=row, column=1, value=label).font = bold
        guide.cell(row=row, column=2, value=text).alignment = Alignment(wrap_text=True)
    handle = io.BytesIO()
    workbook.save(handle)
    return handle.getvalue()


# --- storing the uploaded file ----------------------------------------------------------------------------------


def roster_dir():
    return Path(settings.ROSTER_DIR)


def store_file(unit, uploaded):
    """Write the upload to ROSTER_DIR/<unit>/ with mode 0600; (relative path, sha256)."""
    if uploaded.size > MAX_FILE_BYTES:
        raise RosterFileError(f"文件过大（{uploaded.size / 1024 / 1024:.1f} MB），请不要超过 10 MB。")
    if not uploaded.name.lower().endswith(".xlsx"):
        raise RosterFileError("请上传 .xlsx 格式的 Excel 文件（可先下载本活动的模板）。")
    folder = roster_dir() / str(unit.pk)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(roster_dir(), 0o700)
    relative = f"{unit.pk}/{uuid.uuid4().hex}.xlsx"
    path = roster_dir() / relative
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in uploaded.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return relative, digest.hexdigest()


def file_path(upload):
    return roster_dir() / upload.file_path


def delete_file(relative):
    if relative:
        try:
            (roster_dir() / relative).unlink()
        except FileNotFoundError:
            pass


# --- reading rows ----------------------------------------------------------------------------------------------


def _clean_header(value):
    text = "".join(unicodedata.normalize("NFKC", str(value or "")).split())
    for mark in ("(必填)", "*"):
        text = text.replace(mark, "")
    return text


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def open_rows(path, campaign, block):
    """(columns, iterator of (Excel row number, {key: raw value})) for a stored roster; RosterFileError if unusable."""
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise RosterFileError("文件解压后过大，无法读取：请使用本活动的模板，只填写名单内容。")
        workbook = load_workbook(path, read_only=True, data_only=True)
    except RosterFileError:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise RosterFileError("文件无法读取：请上传用本活动模板填写的 .xlsx 文件（不要只改扩展名）。") from None
    keywords = workbook.properties.keywords or ""
    if keywords.startswith("campaign:") and keywords != template_keywords(campaign, block.id):
        workbook.close()
        raise RosterFileError("这是其他活动或表单的模板：请在本活动页面重新下载模板并填写。")
    sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
    columns = columns_for(block.value)
    rows = sheet.iter_rows(min_row=1, max_col=len(columns) + 5, values_only=True)
    header = next(rows, None) or ()
    positions = {}
    titles = {column.title: column for column in columns}
    for index, value in enumerate(header):
        column = titles.get(_clean_header(value))
        if column is not None and column.key not in positions:
            positions[column.key] = index
    missing = [column.title for column in columns if column.required and column.key not in positions]
    if "name" not in positions or "id_number" not in positions or missing:
        workbook.close()
        names = "、".join(missing or ["姓名", "身份证号"])
        raise RosterFileError(f"第1行表头缺少列：{names}。请使用本活动的模板，不要修改表头。")

    def generate():
        try:
            for number, values in enumerate(rows, 2):
                if not any(value not in (None, "") and str(value).strip() for value in values):
                    continue
                yield number, {key: values[index] if index < len(values) else None
                               for key, index in positions.items()}
        except RosterFileError:
            raise
        except Exception:  # a damaged sheet part shows up only while reading
            raise RosterFileError("文件内容已损坏，无法读完：请在 Excel 中另存为 .xlsx 后重新上传。") from None
        finally:
            workbook.close()

    return columns, generate()


def check_row(raw, columns, block_value, today, age_range=None):
    """(clean values, []) or (partial values, [Chinese reasons])."""
    errors = []
    values = {}
    by_key = {column.key: column for column in columns}
    for column in columns:
        text = _text(raw.get(column.key))
        values[column.key] = text
        if column.required and not text:
            errors.append(f"缺少“{column.title}”")
        elif text and column.choices:
            # compared as folded text: NFKC turns the editor's full-width brackets into ASCII ones
            choices = {_text(choice): choice for choice in column.choices}
            if text in choices:
                values[column.key] = choices[text]
            else:
                errors.append(f"“{column.title}”的值“{text[:20]}”不在可选范围内")
    if len(values["name"]) > 50:
        errors.append("姓名过长（最多50字）")
    raw_id = raw.get("id_number")
    number = ""
    if isinstance(raw_id, float) or (isinstance(raw_id, int) and len(str(raw_id)) > 15):
        errors.append("身份证号被 Excel 存成了数字，后几位可能已丢失：请把该列设为文本后重新填写")
    elif values["id_number"]:
        try:
            number = validate_id_number(values["id_number"], today=today, age_range=age_range)
        except IdNumberError as error:
            errors.append(str(error).rstrip("。"))
    if number:
        gender = "男" if int(number[16]) % 2 else "女"
        if values.get("gender") in GENDERS and values["gender"] != gender:
            errors.append(f"性别“{values['gender']}”与身份证号不符")
    values["id_number"] = number
    if values["mobile"]:
        if is_valid_mobile(values["mobile"]):
            values["mobile"] = normalise_mobile(values["mobile"])
        else:
            errors.append("手机号码应为11位大陆手机号码")
    if "shares" in by_key and values["shares"]:
        max_shares = block_value.get("max_shares") or 5
        try:
            shares = int(float(values["shares"]))
            if shares != float(values["shares"]):
                raise ValueError
        except ValueError:
            shares = None
        if shares is None or not 1 <= shares <= max_shares:
            errors.append(f"份数应为1至{max_shares}之间的整数")
        values["shares"] = shares
    if values.get("delivery") in DELIVERIES and DELIVERIES[values["delivery"]] == "delivery" and not values.get(
            "address"):
        errors.append("选择“邮寄到家”时须填写邮寄地址")
    for key, limit in (("employer", 100), ("plan", 100), ("membership_number", 30), ("address", 200)):
        if len(values.get(key) or "") > limit:
            errors.append(f"“{by_key[key].title}”过长（最多{limit}字）")
    return values, errors


def name_key(name):
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


# --- comparing with the campaign's enrolments -------------------------------------------------------------------


def existing_enrolments(campaign, unit, hashes):
    """hash → (the campaign's first enrolment of that ID, this unit's 待核实 enrolments of it)."""
    from campaigns.models import Enrolment

    found = {}
    hashes = list(hashes)
    for start in range(0, len(hashes), BATCH):
        candidates = Enrolment.objects.filter(campaign=campaign, id_number_hash__in=hashes[start:start + BATCH]) \
            .filter(Q(conflict_of=None) | Q(unit=unit)).order_by("pk")
        for enrolment in candidates:
            first, own = found.get(enrolment.id_number_hash, (None, []))
            if enrolment.conflict_of_id is None:
                first = enrolment
            else:
                own.append(enrolment)
            found[enrolment.id_number_hash] = (first, own)
    return found


def classify(existing, name, unit, block_id):
    """(outcome, reason, enrolment) for a valid row: the enrolment to update, or for a conflict the first one."""
    from campaigns.models import EnrolmentStatus, RowOutcome

    first, own = existing or (None, [])
    if first is None:
        return RowOutcome.NEW, "", None
    if name_key(first.name) != name_key(name):
        mine = next((e for e in own if name_key(e.name) == name_key(name)), None)
        if mine is not None and mine.status != EnrolmentStatus.APPROVED:
            return RowOutcome.UPDATE, f"将更新此前提交的待核实报名（{mine.reference}）", mine
        if mine is not None:
            return RowOutcome.ENROLLED, f"已报名并已通过审核（{mine.reference}），不再修改", None
        return (RowOutcome.CONFLICT, f"该身份证号已以另一姓名报名本活动（{first.reference}）："
                                     "将作为“待核实”报名保存，由工会核实", first)
    if first.block_id != block_id:
        return RowOutcome.ENROLLED, f"已报名本活动的“{first.form_title}”（{first.reference}），跳过", None
    if first.unit_id == unit.pk and first.roster_upload_id and first.status != EnrolmentStatus.APPROVED:
        return RowOutcome.UPDATE, f"将更新此前提交的报名（{first.reference}）", first
    if first.unit_id == unit.pk:
        return RowOutcome.ENROLLED, f"已报名并已通过审核（{first.reference}），不再修改", None
    channel = "其他单位代为报名" if first.unit_id else "本人已在网上报名"
    return RowOutcome.ENROLLED, f"{channel}（{first.reference}），跳过", None


# --- preview ---------------------------------------------------------------------------------------------------


def _batches(iterator, size):
    batch = []
    for item in iterator:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _row_data(values):
    keys = ("gender", "mobile", "category", "employer", "plan", "shares", "membership_number", "delivery", "address")
    return {key: values[key] for key in keys if key in values}


def preview(campaign, block, unit, user, uploaded):
    """Store the file, read and check it, stage its lines; the RosterUpload, or RosterFileError."""
    from campaigns.models import RosterRow, RosterUpload, RowOutcome

    relative, sha256 = store_file(unit, uploaded)
    try:
        columns, rows = open_rows(roster_dir() / relative, campaign, block)
        today = timezone.localdate()
        seen = {}
        with transaction.atomic():
            upload = RosterUpload.objects.create(
                unit=unit, campaign=campaign, block_id=block.id, form_title=block.value["title"][:100],
                uploaded_by=user, original_name=os.path.basename(uploaded.name)[:200], file_path=relative,
                file_sha256=sha256)
            count = 0
            for batch in _batches(rows, BATCH):
                count += len(batch)
                if count > MAX_ROWS:
                    raise RosterFileError(f"名单超过 {MAX_ROWS} 行（读到第 {batch[-1][0]} 行时已超出）："
                                          f"请拆分为每个不超过 {MAX_ROWS} 行的文件分别上传。")
                staged = []
                for number, raw in batch:
                    values, errors = check_row(raw, columns, block.value, today, campaign.age_range)
                    id_hash = crypto.lookup_hash(values["id_number"]) if values["id_number"] else ""
                    if id_hash and id_hash in seen:
                        errors.append(f"与第{seen[id_hash]}行的身份证号重复")
                    elif id_hash:
                        seen[id_hash] = number
                    masked = mask_id_number(values["id_number"] or _text(raw.get("id_number"))[:18])
                    staged.append(RosterRow(upload=upload, row_number=number, name=values["name"][:50],
                                            id_number_masked=masked[:18], id_number_hash=id_hash,
                                            data=_row_data(values)))
                    if errors:
                        staged[-1].outcome = RowOutcome.REJECTED
                        staged[-1].reason = "；".join(errors)[:300]
                    else:
                        staged[-1].number = values["id_number"]
                existing = existing_enrolments(campaign, unit, [r.id_number_hash for r in staged if not r.reason])
                for row in staged:
                    if row.reason:
                        continue
                    row.outcome, row.reason, _ = classify(existing.get(row.id_number_hash), row.name, unit, block.id)
                    if row.outcome in _stored_outcomes():
                        row.id_number_encrypted = crypto.encrypt(row.number)
                RosterRow.objects.bulk_create(staged)
            if count == 0:
                raise RosterFileError("文件中没有名单：请从第2行起填写，每行一名会员。")
            refresh_counts(upload)
    except BaseException:
        delete_file(relative)
        raise
    return upload


def refresh_counts(upload):
    from campaigns.models import RowOutcome

    counts = dict(upload.rows.values_list("outcome").annotate(n=Count("pk")).order_by())
    upload.total_rows = sum(counts.values())
    upload.new_count = counts.get(RowOutcome.NEW, 0)
    upload.update_count = counts.get(RowOutcome.UPDATE, 0)
    upload.enrolled_count = counts.get(RowOutcome.ENROLLED, 0)
    upload.conflict_count = counts.get(RowOutcome.CONFLICT, 0)
    upload.rejected_count = counts.get(RowOutcome.REJECTED, 0)
    upload.save(update_fields=["total_rows", "new_count", "update_count", "enrolled_count", "conflict_count",
                               "rejected_count"])


# --- confirmation ----------------------------------------------------------------------------------------------


class ConfirmError(Exception):
    pass


def _stored_outcomes():
    from campaigns.models import RowOutcome

    return [RowOutcome.NEW, RowOutcome.UPDATE, RowOutcome.CONFLICT]


def _enrolment_fields(row, upload):
    data = row.data
    unit = upload.unit
    fields = {
        "name": row.name, "mobile": data.get("mobile", ""), "employer": data.get("employer") or unit.name,
        "branch": unit.name[:100], "member_category": data.get("category", ""), "consent": True,
    }
    if "shares" in data:
        fields |= {"plan": data.get("plan", ""), "shares": data.get("shares")}
    if "delivery" in data:
        delivery = DELIVERIES.get(data.get("delivery"), "pickup")
        fields |= {"membership_number": data.get("membership_number", ""), "delivery": delivery,
                   "address": data.get("address", "") if delivery == "delivery" else ""}
    return fields


def _plain_id(row):
    try:
        return crypto.decrypt(row.id_number_encrypted)
    except crypto.DecryptionError:
        raise ConfirmError("名单中的身份证号无法解密（密钥已更换）：请重新上传名单。") from None


def confirm(upload, user):
    """Store the upload's new and corrected lines as enrolments, all or nothing.

    Returns (created, updated, reviews) or raises ConfirmError (nothing stored)."""
    from campaigns.models import (
        Enrolment,
        EnrolmentReview,
        EnrolmentStatus,
        RosterRow,
        RosterStatus,
        RosterUpload,
        RowOutcome,
    )

    created = updated = 0
    reviews = []
    try:
        with transaction.atomic():
            locked = RosterUpload.objects.select_for_update().get(pk=upload.pk)
            if locked.status != RosterStatus.PREVIEWED:
                raise ConfirmError("这份名单已经处理过，不能重复提交。")
            unit = upload.unit
            campaign = upload.campaign
            form_kind = _form_kind(campaign, locked)
            pending = locked.rows.filter(outcome__in=_stored_outcomes()).order_by("row_number")
            for batch in _batches(pending.iterator(chunk_size=BATCH), BATCH):
                existing = existing_enrolments(campaign, unit, [row.id_number_hash for row in batch])
                fresh, changed, rows = [], [], []
                for row in batch:
                    row.outcome, row.reason, target = classify(existing.get(row.id_number_hash), row.name, unit,
                                                               locked.block_id)
                    if row.outcome in (RowOutcome.NEW, RowOutcome.CONFLICT):
                        conflict = row.outcome == RowOutcome.CONFLICT
                        enrolment = Enrolment(
                            campaign=campaign, block_id=locked.block_id, form_kind=form_kind,
                            form_title=locked.form_title, unit=unit, roster_upload=locked,
                            reference=Enrolment.new_reference(form_kind), conflict_of=target if conflict else None,
                            status=EnrolmentStatus.CONFLICT if conflict else EnrolmentStatus.PENDING,
                            **_enrolment_fields(row, locked))
                        enrolment.set_id_number(_plain_id(row), row.id_number_hash)
                        fresh.append(enrolment)
                        row.enrolment = enrolment
                        if not conflict:
                            row.reason = ""
                    elif row.outcome == RowOutcome.UPDATE:
                        for key, value in _enrolment_fields(row, locked).items():
                            setattr(target, key, value)
                        target.roster_upload = locked
                        if target.status == EnrolmentStatus.RETURNED:
                            again = EnrolmentStatus.CONFLICT if target.conflict_of_id else EnrolmentStatus.PENDING
                            reviews.append(EnrolmentReview(enrolment=target, user=user, from_status=target.status,
                                                           to_status=again, reason="基层工会重新上传更正后的名单"))
                            target.status = again
                            target.review_reason = ""
                        changed.append(target)
                        row.enrolment = target
                    rows.append(row)
                Enrolment.objects.bulk_create(fresh)
                if changed:
                    Enrolment.objects.bulk_update(changed, [*_enrolment_fields(batch[0], locked), "roster_upload",
                                                            "status", "review_reason"])
                _update_many(RosterRow, ["outcome", "reason", "enrolment_id", "id_number_encrypted"],
                             [(r.outcome, r.reason, r.enrolment.pk if r.enrolment else None, "", r.pk) for r in rows])
                created += len(fresh)
                updated += len(changed)
            EnrolmentReview.objects.bulk_create(reviews)
            # the encrypted copies are no longer needed once the enrolments hold them
            locked.rows.exclude(id_number_encrypted="").update(id_number_encrypted="")
            locked.status = RosterStatus.CONFIRMED
            locked.confirmed_at = timezone.now()
            locked.save(update_fields=["status", "confirmed_at"])
            refresh_counts(locked)
    except IntegrityError:
        logger.warning("roster upload %s: confirmation rolled back", upload.pk, exc_info=True)
        raise ConfirmError("提交未成功，名单中的内容都没有保存：有数据与已有报名冲突（可能刚有人报名）。"
                           "请重新上传名单，刷新预检结果后再提交。") from None
    upload.refresh_from_db()
    return created, updated, reviews


def _update_many(model, columns, values):
    """One parameterised UPDATE per row by primary key (executemany): much cheaper than bulk_update's CASE."""
    if not values:
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column)} = %s" for column in columns)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _form_kind(campaign, upload):
    block = campaign.find_form_block(upload.block_id)
    return block.value["form_kind"] if block else "mutual_aid"


# --- erasure of one member inside stored files -------------------------------------------------------------------


def blank_rows_in_file(upload, row_numbers):
    """Clear the given Excel rows of a stored roster (erasure of one member); the other rows stay for disputes."""
    from openpyxl import load_workbook

    path = file_path(upload)
    if not upload.file_path or not path.exists() or not row_numbers:
        return
    workbook = load_workbook(path)
    sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
    for number in row_numbers:
        for cell in sheet[number]:
            cell.value = None
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        workbook.save(handle)
    os.replace(temporary, path)
    upload.file_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    upload.save(update_fields=["file_sha256"])
