"""Uploads have bounded cost: hostile spreadsheets, Word files and zips are refused with a Chinese message
before they are expanded, within a memory cap and a time limit, and nothing is written.

The bounded runs fork the test process (see bounded.py) and print their figures ("[bounded] …"): run
pytest with -s to see them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from merchants.importing import ImportFileError, plan_import
from speeches.importers.word.importer import Batch, expand, preview_uploads

from . import hostile
from .bounded import run_bounded

TIME_LIMIT = 20


def counts():
    from wagtail.images.models import Image

    from merchants.models import Merchant
    from speeches.models import Speaker, SpeechPage

    return {"pages": SpeechPage.objects.count(), "speakers": Speaker.objects.count(),
            "images": Image.objects.count(), "merchants": Merchant.objects.count()}


def word_import(name, data):
    """What the Word import view does with one uploaded file; then what is in the database."""
    previews = preview_uploads(expand(name, data, Batch()))
    return {"errors": [p.error for p in previews], "counts": counts()}


def merchant_import(name, data):
    """What the merchant import view does with one uploaded file (plan, then apply if it is clean)."""
    try:
        plan_import(data, name).apply()
        error = ""
    except ImportFileError as exc:
        error = str(exc)
    return {"errors": [error], "counts": counts()}


WORD_BOMBS = ["docx expanding to 60 MB", "docx whose zip headers lie about its size", "zip of 200 × 10 MB members",
              "zip of 12 × 10 MB members (120 MB in all)", "docx of 1.2 million XML elements, stored"]


def word_bombs(good):
    return {
        "docx expanding to 60 MB": ("会议讲话.docx", hostile.docx_bomb(good), "解压后过大"),
        "docx whose zip headers lie about its size": ("会议讲话.docx", hostile.docx_lying_sizes(good), "已损坏"),
        "zip of 200 × 10 MB members": ("材料.zip", hostile.zip_of_word_bombs(), "疑似压缩炸弹"),
        "zip of 12 × 10 MB members (120 MB in all)": ("材料.zip", zip_over_total(), "总大小超过 100 MB"),
        "docx of 1.2 million XML elements, stored": ("会议讲话.docx", hostile.docx_many_elements(good), "结构过于复杂"),
    }


def zip_over_total(members=12):
    """Members that compress only about 18 times (no ratio alarm), 10 MB each: only the total refuses it."""
    import random

    rng = random.Random(1)
    block = bytearray(128 * 1024)
    for i in range(0, len(block), 40):
        block[i] = rng.randrange(256)
    payload = bytes(block) * 80
    entry = hostile.entry("x", payload)
    return hostile.raw_zip([(f"讲话{i:03d}.docx", *entry[1:]) for i in range(members)])


SPREADSHEET_BOMBS = {
    "xlsx declaring A1:XFD1048576": ("商户.xlsx", hostile.xlsx_huge_dimension, "文件超过 20000 行，请分批导入"),
    "xlsx of 300,000 rows": ("商户.xlsx", hostile.xlsx_many_rows, "文件超过 20000 行，请分批导入"),
    "xlsx with a row of 1.5 million cells": ("商户.xlsx", lambda: hostile.xlsx_wide_row(1_500_000), "单元格"),
    "csv of 300,000 rows": ("商户.csv", hostile.csv_many_rows, "文件超过 20000 行，请分批导入"),
    "xlsx with a billion-laughs DTD": ("商户.xlsx", hostile.xlsx_entity_expansion, "文档类型声明（DTD）"),
}


def assert_bounded(run, label):
    print(run.figures(label))
    assert run.kind == "ok", f"{label}: {run.kind} {run.value}"
    assert run.seconds < TIME_LIMIT


@pytest.mark.parametrize("label", WORD_BOMBS)
def test_word_bombs_are_refused_within_bounds(transactional_db, speech_index, speech_docx, label):
    name, data, message = word_bombs(speech_docx)[label]
    before = counts()
    run = run_bounded(word_import, name, data, seconds=TIME_LIMIT)
    assert_bounded(run, f"{label} ({len(data) / 1024:.0f} KB)")
    assert any(message in error for error in run.value["errors"]), run.value["errors"]
    assert all(run.value["errors"])
    assert run.value["counts"] == before  # in the child
    assert counts() == before  # and in the database the parent sees


@pytest.mark.parametrize("label", list(SPREADSHEET_BOMBS))
def test_spreadsheet_bombs_are_refused_within_bounds(transactional_db, home_page, label):
    name, build, message = SPREADSHEET_BOMBS[label]
    data = build()
    run = run_bounded(merchant_import, name, data, seconds=TIME_LIMIT)
    assert_bounded(run, f"{label} ({len(data) / 1024:.1f} KB)")
    [error] = run.value["errors"]
    assert message in error
    assert run.value["counts"]["merchants"] == 0 and counts()["merchants"] == 0


def test_a_valid_import_still_works_under_the_same_bounds(transactional_db, home_page, speech_index, speech_docx):
    from merchants.tests.helpers import GOOD_ROWS, xlsx_bytes

    run = run_bounded(merchant_import, "商户.xlsx", xlsx_bytes(GOOD_ROWS), seconds=TIME_LIMIT)
    assert_bounded(run, "valid xlsx of 3 rows")
    assert run.value["errors"] == [""] and run.value["counts"]["merchants"] == 3
    run = run_bounded(word_import, "讲话.docx", speech_docx, seconds=TIME_LIMIT)
    assert_bounded(run, "valid docx")
    assert run.value["errors"] == [""]


def test_the_harness_catches_what_it_bounds(db):
    """The cap and the limit are real: a function that allocates too much or runs too long is stopped."""
    def allocate():
        return len(bytearray(1024 * hostile.MB))

    def spin():
        while True:
            pass

    assert run_bounded(allocate, seconds=TIME_LIMIT).kind == "MemoryError"
    assert run_bounded(spin, seconds=1).kind == "timeout"


# The same files through the real admin views ------------------------------------------------------------------------

@pytest.mark.parametrize("label", WORD_BOMBS)
def test_word_bombs_through_the_admin_view(admin_client, speech_index, speech_docx, label):
    name, data, message = word_bombs(speech_docx)[label]
    before = counts()
    response = admin_client.post(reverse("speeches_docx_import"),
                                 {"parent": speech_index.pk, "files": [SimpleUploadedFile(name, data)]})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "可导入 0 个" in html and "确认导入为草稿" not in html
    assert counts() == before


@pytest.mark.parametrize("label", list(SPREADSHEET_BOMBS))
def test_spreadsheet_bombs_through_the_admin_view(admin_client, label):
    name, build, message = SPREADSHEET_BOMBS[label]
    response = admin_client.post("/admin/merchants/import/", {"file": SimpleUploadedFile(name, build())})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "确认导入" not in html
    assert counts()["merchants"] == 0
