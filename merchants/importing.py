"""Spreadsheet import and export of merchants (xlsx, CSV in UTF-8 or GBK).

``plan_import`` reads and checks every row without writing anything; ``MerchantImport.apply`` writes the
plan in one transaction. ``check_rows`` streams the checked rows and ``write_rows`` writes one batch of them
(the background import, merchants/jobs.py). Rows are keyed by name + address, so a re-import updates instead of
duplicating.
"""

import csv
import datetime
import io
import re
import zipfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.spreadsheets import Column, csv_bytes, unescape_formula, xlsx_bytes
from core.uploads import MB, UploadRejected, check_zip, size_text
from merchants.validation import normalise_phone, phone_is_valid

# (model field, column heading, other headings accepted on import)
COLUMNS = [
    ("name", "商户名称", ("名称", "商户", "商家名称")),
    ("category", "类别", ("分类", "商户类别", "行业")),
    ("district", "区域", ("区县", "地区", "所在区域")),
    ("address", "地址", ("商户地址", "详细地址")),
    ("phone", "电话", ("联系电话", "电话号码")),
    ("opening_hours", "营业时间", ()),
    ("discount", "优惠内容", ("优惠", "优惠信息", "折扣")),
    ("valid_from", "有效期开始", ("开始日期", "生效日期")),
    ("valid_to", "有效期结束", ("结束日期", "截止日期", "失效日期")),
    ("active", "是否启用", ("启用", "状态")),
]
HEADINGS = [heading for _, heading, _ in COLUMNS]
LABELS = {name: heading for name, heading, _ in COLUMNS}
REQUIRED = ("name", "category", "discount")
TEXT_FIELDS = ("name", "district", "address", "phone", "opening_hours", "discount")
COMPARED = ("category_id", "district", "phone", "opening_hours", "discount", "valid_from", "valid_to", "active")
MAX_ROWS = 20000
MAX_COLUMNS = 50
MAX_FILE_BYTES = 10 * MB
# What an xlsx may expand to before openpyxl opens it (core.uploads.check_zip).
XLSX_MAX_MEMBERS = 500
XLSX_MAX_SHEET = 50 * MB  # worksheets and the shared strings (streamed by openpyxl)
XLSX_MAX_PART = 10 * MB  # styles, workbook, images…
XLSX_MAX_TOTAL = 100 * MB
XLSX_MAX_RATIO = 100
XLSX_MAX_XML_ELEMENTS = 2_000_000
MAX_CELLS_PER_ROW = 1000
MAX_CELLS = 300_000
TRUE_WORDS = {"是", "启用", "有效", "y", "yes", "true", "1", "正常"}
FALSE_WORDS = {"否", "停用", "无效", "n", "no", "false", "0", "禁用"}


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user (Chinese)."""


@dataclass
class RowResult:
    row_number: int
    values: dict
    action: str = ""  # create, update, unchanged, reject
    errors: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    merchant: object = None

    @property
    def name(self):
        return self.values.get("name", "")

    @property
    def key(self):
        return (self.values.get("name", ""), self.values.get("address", ""))

    @property
    def error_line(self):
        return f"第 {self.row_number} 行（{self.name or '无名称'}）：{'；'.join(self.errors)}"

    @property
    def action_label(self):
        return {"create": "新建", "update": "更新", "unchanged": "无变化", "reject": "拒绝"}[self.action]


@dataclass
class MerchantImport:
    filename: str
    rows: list

    def of(self, action):
        return [row for row in self.rows if row.action == action]

    @property
    def created(self):
        return self.of("create")

    @property
    def updated(self):
        return self.of("update")

    @property
    def unchanged(self):
        return self.of("unchanged")

    @property
    def rejected(self):
        return self.of("reject")

    @property
    def ok(self):
        return not self.rejected

    def summary(self):
        return summary_text(self.filename, len(self.rows), len(self.created), len(self.updated),
                            len(self.unchanged), len(self.rejected))

    def error_lines(self):
        return [row.error_line for row in self.rejected]

    @transaction.atomic
    def apply(self):
        """Write the plan. Refuses (writes nothing) when any row was rejected."""
        if not self.ok:
            raise ImportFileError(f"有 {len(self.rejected)} 行有错误，未导入任何数据，请修正后重新导入。")
        _write(self.created, self.updated)
        return self


def summary_text(filename, total, created, updated, unchanged, rejected):
    return (f"{filename}：共 {total} 行，新建 {created} 家，更新 {updated} 家，"
            f"无变化 {unchanged} 家，拒绝 {rejected} 行")


def _write(created, updated):
    """Insert the created rows and update the changed ones (their ``merchant`` set), then index them."""
    from wagtail.search.backends import get_search_backends

    from merchants.models import Merchant, pinyin_key

    new = []
    for row in created:
        merchant = Merchant(**_model_values(row.values))
        merchant.sort_key = pinyin_key(merchant.name)
        new.append(merchant)
    Merchant.objects.bulk_create(new, batch_size=500)
    now = timezone.now()
    changed = []
    for row in updated:
        merchant = row.merchant
        values = _model_values(row.values)
        for name, value in values.items():
            setattr(merchant, name, value)
        merchant.updated_at = now
        # one plain UPDATE per row: bulk_update's CASE expressions are far slower on SQLite
        Merchant.objects.filter(pk=merchant.pk).update(updated_at=now, **values)
        changed.append(merchant)
    touched = new + changed
    if touched:
        for backend in get_search_backends(with_auto_update=True):
            backend.add_bulk(Merchant, touched)
        transaction.on_commit(_purge_page_cache)


def write_rows(rows):
    """Write one batch of checked rows (none rejected) in the caller's transaction. Each row is compared with the
    database as it is now, so writing a batch again creates nothing twice. Returns the rows per action."""
    from merchants.models import Merchant

    names = {row.values["name"] for row in rows}
    existing = {(m.name, m.address): m for m in Merchant.objects.filter(name__in=names)}
    for row in rows:
        classify(row, existing.get(row.key))
    _write([row for row in rows if row.action == "create"], [row for row in rows if row.action == "update"])
    counts = {"create": 0, "update": 0, "unchanged": 0}
    for row in rows:
        counts[row.action] += 1
    return counts


def _purge_page_cache():
    """Bulk writes send no save signals; refresh the anonymous page cache (core.pagecache) where installed."""
    try:
        from core.pagecache import purge
    except ImportError:
        return
    purge()


def _model_values(values):
    data = {name: values[name] for name in TEXT_FIELDS}
    data.update(
        category=values["category"], valid_from=values["valid_from"], valid_to=values["valid_to"],
        active=values["active"],
    )
    return data


# Reading ---------------------------------------------------------------------------------------------------------

def read_table(data, filename):
    """Rows of cell values from xlsx or CSV bytes, header first: at most MAX_ROWS + 1 rows of MAX_COLUMNS cells."""
    return list(iter_table(data, filename))


def iter_table(data, filename):
    """The rows of ``read_table`` one by one: the reading stops at the first row over the limit; an xlsx is
    checked as a zip (core.uploads.check_zip) before openpyxl opens it."""
    suffix = Path(filename or "").suffix.lower()
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {size_text(MAX_FILE_BYTES)}，请拆分后导入")
    if data[:4] == b"PK\x03\x04" or suffix == ".xlsx":
        rows = _read_xlsx(data)
    elif suffix in {".csv", ".txt", ""}:
        rows = _read_csv(data)
    else:
        raise ImportFileError(f"不支持的文件类型“{suffix}”，请上传 .xlsx 或 .csv 文件")
    with closing(rows):
        for count, row in enumerate(rows):
            if count > MAX_ROWS:  # the header and MAX_ROWS rows are already read
                raise ImportFileError(f"文件超过 {MAX_ROWS} 行，请分批导入")
            yield list(row[:MAX_COLUMNS])


def _xlsx_part_limit(name):
    return XLSX_MAX_SHEET if name.startswith(("xl/worksheets/", "xl/sharedStrings")) else XLSX_MAX_PART


def _row_watch(name, counted=None):
    """Rows, cells per row and cells of each worksheet (whichever is imported): openpyxl builds a whole row
    before handing it over, and every cell costs time even in columns that are not imported. ``counted`` (a
    dict) receives each worksheet's counts."""
    if not name.startswith("xl/worksheets/"):
        return None
    state = {"rows": 0, "cells": 0, "total": 0}
    if counted is not None:
        counted[name] = state

    def seen(tag):
        if tag == "row":
            state["rows"] += 1
            state["cells"] = 0
            if state["rows"] > MAX_ROWS + 1:
                raise UploadRejected(f"文件超过 {MAX_ROWS} 行，请分批导入")
        elif tag == "c":
            state["cells"] += 1
            state["total"] += 1
            if state["cells"] > MAX_CELLS_PER_ROW:
                raise UploadRejected(f"表格第 {state['rows']} 行的单元格超过 {MAX_CELLS_PER_ROW} 个，"
                                     f"请删除多余的列后再导入")
            if state["total"] > MAX_CELLS:
                raise UploadRejected(f"表格的单元格超过 {MAX_CELLS // 10000} 万个，请删除多余的行或列后再导入")

    return seen


def _check_xlsx(data, counted=None):
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError("无法读取 Excel 文件，请确认是 .xlsx 格式且未损坏")
    try:
        check_zip(data, XLSX_MAX_MEMBERS, _xlsx_part_limit, XLSX_MAX_TOTAL, XLSX_MAX_RATIO, what="Excel 文件",
                  max_xml_elements=XLSX_MAX_XML_ELEMENTS, watch=lambda name: _row_watch(name, counted))
    except UploadRejected as exc:
        raise ImportFileError(str(exc)) from exc


def count_rows(data, filename):
    """How many rows the file has (header and empty rows included; for an xlsx its longest worksheet), found
    without checking any row: the xlsx zip check counts them, a CSV is only split into records. Refuses what
    ``iter_table`` refuses for the file as a whole (size, rows, zip bombs) with the same messages."""
    suffix = Path(filename or "").suffix.lower()
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"文件超过 {size_text(MAX_FILE_BYTES)}，请拆分后导入")
    if data[:4] == b"PK\x03\x04" or suffix == ".xlsx":
        counted = {}
        _check_xlsx(data, counted)
        return max((state["rows"] for state in counted.values()), default=0)
    return sum(1 for _ in iter_table(data, filename))


def _read_xlsx(data):
    from openpyxl import load_workbook

    _check_xlsx(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise ImportFileError("无法读取 Excel 文件，请确认是 .xlsx 格式且未损坏") from exc
    try:
        sheet = workbook["商户"] if "商户" in workbook.sheetnames else workbook.worksheets[0]
        sheet.reset_dimensions()  # the declared size (e.g. A1:XFD1048576) is not trusted
        try:
            yield from sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        except (ValueError, KeyError, IndexError, TypeError, SyntaxError) as exc:
            raise ImportFileError("无法读取 Excel 文件，请确认是 .xlsx 格式且未损坏") from exc
    finally:
        workbook.close()


def _read_csv(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("无法识别 CSV 文件的编码，请另存为 UTF-8 或 GBK 编码")
    if "\x00" in text:
        raise ImportFileError("CSV 文件包含无法识别的内容，请另存为 UTF-8 或 GBK 编码的 CSV")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(f"CSV 文件第 {reader.line_num} 行格式有误（如引号不成对或单元格过长），"
                              "请检查后重新导入") from exc


def _header_map(header, row_number):
    aliases = {}
    for name, heading, others in COLUMNS:
        for label in (heading, *others):
            aliases[label] = name
    mapping = {}
    for index, cell in enumerate(header):
        label = re.sub(r"[\s*＊（(].*$", "", _text(cell)) or _text(cell)
        name = aliases.get(label) or aliases.get(_text(cell))
        if name and name not in mapping:
            mapping[name] = index
    missing = [LABELS[name] for name in REQUIRED if name not in mapping]
    if missing:
        raise ImportFileError(
            f"第 {row_number} 行缺少表头：{'、'.join(missing)}。请使用下载的模板，表头为：{'、'.join(HEADINGS)}"
        )
    return mapping


def _text(value):
    if value is None:
        return ""
    value = unescape_formula(value)  # exports escape = + - @ with a leading '

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return str(value).replace("\u3000", " ").strip()


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


def _date(value, label, errors):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        return None
    text = re.sub(r"\s+00:00(:00)?$", "", text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    errors.append(f"{label}“{text}”不是有效日期（应写成 2025-01-31）")
    return None


def _check_row(row_number, cells, mapping, categories):
    def cell(name):
        index = mapping.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    errors = []
    values = {name: _text(cell(name)) for name in TEXT_FIELDS}
    from merchants.models import Merchant

    for name in TEXT_FIELDS:
        limit = Merchant._meta.get_field(name).max_length
        if len(values[name]) > limit:
            errors.append(f"{LABELS[name]}超过 {limit} 个字")
    if not values["name"]:
        errors.append("缺少商户名称")
    if not values["discount"]:
        errors.append("缺少优惠内容")
    category_name = _text(cell("category"))
    values["category"] = categories.get(category_name)
    values["category_name"] = category_name
    if not category_name:
        errors.append("缺少类别")
    elif values["category"] is None:
        errors.append(f"类别“{category_name}”不存在（现有类别：{'、'.join(categories)}；新类别请先在后台添加）")
    if values["phone"] and not phone_is_valid(values["phone"]):
        errors.append(f"电话“{values['phone']}”格式不正确（手机号11位，座机如 023-63861234）")
    values["phone"] = normalise_phone(values["phone"])
    values["valid_from"] = _date(cell("valid_from"), "有效期开始", errors)
    values["valid_to"] = _date(cell("valid_to"), "有效期结束", errors)
    if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
        errors.append(
            f"有效期结束（{values['valid_to']:%Y-%m-%d}）早于开始（{values['valid_from']:%Y-%m-%d}）"
        )
    active = _text(cell("active")).lower()
    if active in TRUE_WORDS or active == "":
        values["active"] = True
    elif active in FALSE_WORDS:
        values["active"] = False
    else:
        values["active"] = True
        errors.append(f"是否启用“{active}”无法识别，请填“是”或“否”")
    return RowResult(row_number=row_number, values=values, errors=errors)


def categories_by_name():
    from merchants.models import Category

    return {c.name: c for c in Category.objects.all()}


def check_rows(data, filename, categories):
    """The file's non-empty rows, read and checked one by one (duplicates within the file included); their action
    is "reject" or still to be decided against the database (``classify``). Raises ImportFileError for unreadable
    files, for a missing header and for a file without data."""
    return check_table(iter_table(data, filename), categories)


def check_table(rows, categories):
    """``check_rows`` for the rows of cells of ``iter_table`` (or a copy of them)."""
    with closing(rows):
        header_row = 0
        for cells in rows:
            header_row += 1
            if any(_text(c) for c in cells):
                break
        else:
            raise ImportFileError("文件是空的，没有表头和数据")
        mapping = _header_map(cells, header_row)
        seen, count = {}, 0
        for offset, cells in enumerate(rows, start=header_row + 1):
            if not any(_text(c) for c in cells):
                continue
            row = _check_row(offset, cells, mapping, categories)
            if row.values["name"] and row.key in seen:
                row.errors.append(f"与第 {seen[row.key]} 行是同一商户（名称和地址相同）")
            elif row.values["name"]:
                seen[row.key] = offset
            if row.errors:
                row.action = "reject"
            count += 1
            yield row
        if not count:
            raise ImportFileError("文件中没有商户数据（表头之后都是空行）")


def classify(row, merchant):
    """Decide a checked row's action against the existing merchant with its key (None: there is none)."""
    if row.errors:
        row.action = "reject"
    elif merchant is not None:
        row.merchant = merchant
        new_values = _model_values(row.values)
        new_values["category_id"] = new_values.pop("category").pk
        row.changes = [
            LABELS[name.removesuffix("_id")] for name in COMPARED if getattr(merchant, name) != new_values[name]
        ]
        row.action = "update" if row.changes else "unchanged"
    else:
        row.action = "create"
    return row


def plan_import(data, filename="merchants.xlsx"):
    """Read and check a whole file; nothing is written. Raises ImportFileError for unreadable files."""
    from merchants.models import Merchant

    categories = categories_by_name()
    existing = None
    rows = []
    for row in check_rows(data, filename, categories):
        if existing is None:
            existing = {(m.name, m.address): m for m in Merchant.objects.all()}
        rows.append(classify(row, existing.get(row.key)))
    return MerchantImport(filename=Path(filename or "").name, rows=rows)


def import_file(path):
    path = Path(path)
    return plan_import(path.read_bytes(), path.name)


# Writing ---------------------------------------------------------------------------------------------------------

def merchant_row(merchant):
    return [
        merchant.name,
        merchant.category.name,
        merchant.district,
        merchant.address,
        merchant.phone,
        merchant.opening_hours,
        merchant.discount,
        merchant.valid_from,
        merchant.valid_to,
        "是" if merchant.active else "否",
    ]


# Column kinds and minimum widths for core.spreadsheets (phones stay text, dates are date cells).
SHEET_COLUMNS = [
    Column(heading, kind, width)
    for heading, kind, width in zip(HEADINGS, ("text", "text", "text", "text", "digits", "text", "text", "date",
                                               "date", "text"), (24, 10, 10, 32, 16, 16, 30, 12, 12, 10), strict=True)
]


def write_xlsx(rows, instructions=True):
    extra = [("填写说明", instruction_lines(), 100)] if instructions else []
    return xlsx_bytes(SHEET_COLUMNS, rows, sheet_title="商户", extra_sheets=extra)


def write_csv(rows, encoding="utf-8-sig"):
    return csv_bytes(SHEET_COLUMNS, rows, encoding=encoding)


def instruction_lines():
    from merchants.models import Category

    categories = "、".join(Category.objects.values_list("name", flat=True))
    return [
        "特惠商户导入模板填写说明",
        "1. 第一行是表头，请勿修改；每行一家商户。",
        "2. 必填：商户名称、类别、优惠内容。",
        f"3. 类别只能填写后台已有的类别：{categories}。需要新类别请先在“商户类别”中添加。",
        "4. 电话：手机号（11位）、座机（如 023-63861234）或 400 热线，多个号码用“/”分隔。",
        "5. 有效期开始/结束写成 2025-01-31，留空表示不限；结束日期不能早于开始日期。",
        "6. 是否启用填“是”或“否”，留空视为“是”。",
        "7. 名称和地址都相同的商户视为同一家：再次导入会更新它，而不会重复添加。",
        "8. 支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）。",
    ]


def export_rows(queryset):
    return [merchant_row(m) for m in queryset.select_related("category").order_by("sort_key", "name", "pk")]
