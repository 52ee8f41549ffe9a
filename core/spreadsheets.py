"""One spreadsheet writer (CSV and .xlsx) for every export: streamed rows, formula injection escaped.

Rows are iterated once and never held, so memory stays flat for millions of rows (.xlsx in openpyxl's
write-only mode with inline strings). Cell kinds:

- ``text`` (default): strings starting with = + - @ tab or CR get a leading ``'`` so no spreadsheet runs them;
- ``digits`` (ID numbers, phones): kept as text. In .xlsx a string cell with the Text format ``@``; in CSV the
  value is written with a leading tab, which Excel and WPS take as text (no 4.2E+17, no lost digits, no leading
  zeros dropped) and which is not a formula. Only values made of digits (and X) get it; anything else is
  escaped like ``text``;
- ``date``: ISO date in CSV, a date cell (yyyy-mm-dd) in .xlsx;
- ``number``: left as it is.
"""

import csv
import datetime
import io
import re
import unicodedata
from dataclasses import dataclass

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DIGITS = re.compile(r"[0-9]+[0-9Xx]*")
WIDTH_SAMPLE_ROWS = 1000
MAX_WIDTH = 60
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"  # text, digits, date, number
    width: int = 0  # minimum .xlsx column width


def escape_formula(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_formula(value):
    """The reverse, for importing a file this module wrote."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _plain(value, kind):
    if value is None:
        return ""
    if kind == "number":
        return value
    if kind == "date" and isinstance(value, datetime.date):
        return value
    return escape_formula(value if isinstance(value, str) else str(value))


def csv_value(value, kind="text"):
    if kind == "digits" and value is not None and DIGITS.fullmatch(str(value)):
        return "\t" + str(value)
    value = _plain(value, kind)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def display_width(value):
    text = value.isoformat() if isinstance(value, datetime.date) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_csv(handle, columns, rows, progress=None, encoding="utf-8-sig"):
    """Write a header and rows to a binary file; returns the number of data rows."""
    text = io.TextIOWrapper(handle, encoding=encoding, newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow([column.title for column in columns])
    kinds = [column.kind for column in columns]
    count = 0
    for row in rows:
        writer.writerow([csv_value(value, kind) for value, kind in zip(row, kinds, strict=True)])
        count += 1
        if progress and count % 2000 == 0:
            progress(count)
    text.flush()
    text.detach()
    if progress:
        progress(count)
    return count


def write_xlsx(target, columns, rows, *, sheet_title, progress=None, extra_sheets=()):
    """Write a header and rows (write-only workbook; header frozen; widths from the first rows).

    ``extra_sheets`` is a sequence of (title, lines, width) appended after the data. Returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    kinds = [column.kind for column in columns]
    rows = iter(rows)
    sample = []
    for row in rows:
        sample.append([_plain(value, kind) for value, kind in zip(row, kinds, strict=True)])
        if len(sample) >= WIDTH_SAMPLE_ROWS:
            break
    for index, column in enumerate(columns):
        width = max([display_width(column.title), column.width - 2]
                    + [display_width(row[index]) for row in sample])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(width + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def cells(values):
        out = []
        for value, kind in zip(values, kinds, strict=True):
            if kind == "digits" and value != "":
                cell = WriteOnlyCell(sheet, value=str(value))
                cell.number_format = "@"
                cell.data_type = "s"
                value = cell
            elif kind == "date" and isinstance(value, datetime.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                value = cell
            elif isinstance(value, str) and value in ERROR_CODES:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                value = cell
            out.append(value)
        return out

    count = 0
    for values in sample:
        sheet.append(cells(values))
        count += 1
    sample = None
    for row in rows:
        sheet.append(cells([_plain(value, kind) for value, kind in zip(row, kinds, strict=True)]))
        count += 1
        if progress and count % 2000 == 0:
            progress(count)
    for title, lines, width in extra_sheets:
        notes = workbook.create_sheet(title)
        notes.column_dimensions["A"].width = width
        for line in lines:
            notes.append([escape_formula(line)])
    workbook.save(target)
    if progress:
        progress(count)
    return count


def xlsx_bytes(columns, rows, **kwargs):
    buffer = io.BytesIO()
    write_xlsx(buffer, columns, rows, **kwargs)
    return buffer.getvalue()


def csv_bytes(columns, rows, **kwargs):
    buffer = io.BytesIO()
    write_csv(buffer, columns, rows, **kwargs)
    return buffer.getvalue()
