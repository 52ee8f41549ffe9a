"""The import preview, bounded: the file is checked once (in the request up to SYNC_ROWS rows, else by the
``检查特惠商户表格`` job) and the result kept as a compact file in the staging area (gzip JSON, 0600), so the
preview pages (PER_PAGE lines each: the rejected rows first, then the rows to be written) never parse the file
again and never show more than one page of rows."""

import gzip
import json
import re

from core import staging
from merchants.importing import categories_by_name, check_rows, classify, summary_text

SYNC_ROWS = 2000  # larger files are checked by the worker (about 1 s per 2,000 xlsx rows on a loaded machine)
PER_PAGE = 100
PROGRESS_EVERY = 1000
TOKEN = re.compile(r"[0-9a-f]{32}")
ACTIONS = ("create", "update", "unchanged", "reject")
LABELS = {"create": "新建", "update": "更新", "unchanged": "无变化", "reject": "拒绝"}


def check_dir():
    """Outside MEDIA_ROOT, mode 0700, files 0600 (core.staging)."""
    return staging.directory("merchant-checks")


def check_path(user_id, token):
    return check_dir() / f"{int(user_id)}-{token}.json.gz" if TOKEN.fullmatch(token or "") else None


def _existing():
    from merchants.models import Merchant

    return {(m.name, m.address): m for m in Merchant.objects.all()}


def check_upload(data, filename, progress=None):
    """Check and classify every row (nothing is written); returns the compact result. ``progress(done)`` is
    called every PROGRESS_EVERY rows. Raises ImportFileError for unreadable files."""
    categories = categories_by_name()
    existing = None
    counts = dict.fromkeys(ACTIONS, 0)
    rejected, written = [], []
    for row in check_rows(data, filename, categories):
        if existing is None:
            existing = _existing()
        classify(row, existing.get(row.key))
        counts[row.action] += 1
        line = [row.row_number, row.action, row.name, row.values.get("category_name", ""),
                row.values.get("address", "")]
        if row.action == "reject":
            rejected.append([*line, "；".join(row.errors)])
        elif row.action == "update":
            written.append([*line, "变更：" + "、".join(row.changes)])
        elif row.action == "create":
            written.append([*line, ""])
        if progress is not None and sum(counts.values()) % PROGRESS_EVERY == 0:
            progress(sum(counts.values()))
    return {"filename": filename, "rows": sum(counts.values()), "counts": counts, "lines": rejected + written}


def save(path, result):
    staging.write(path, gzip.compress(json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode(),
                                      compresslevel=5))


def load(path):
    """The stored result, or None when it is missing or unreadable (expired, cleaned up)."""
    try:
        return json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, EOFError, ValueError):
        return None


def summary(result):
    counts = result["counts"]
    return summary_text(result["filename"], result["rows"], counts["create"], counts["update"],
                        counts["unchanged"], counts["reject"])


def page_of(result, number):
    """(page number, page count, lines of that page as dicts); a bad or too large number gives the last page
    or the first."""
    lines = result["lines"]
    pages = max(1, -(-len(lines) // PER_PAGE))
    number = int(number) if str(number or "").isdigit() else 1
    number = min(max(number, 1), pages)
    keys = ("row_number", "action", "name", "category", "address", "note")
    chunk = lines[(number - 1) * PER_PAGE:number * PER_PAGE]
    return number, pages, [{**dict(zip(keys, line, strict=True)), "label": LABELS[line[1]]} for line in chunk]


def remove_stale():
    staging.remove_stale(check_dir(), pattern="*.json.gz")
