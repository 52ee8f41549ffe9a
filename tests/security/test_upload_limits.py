"""Each limit of the upload checks at its boundary (limits lowered so the files stay small): one under is
accepted, one over is refused with its Chinese message and nothing is written."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.uploads import UploadRejected, check_zip, read_member
from merchants.importing import ImportFileError, plan_import
from merchants.models import Merchant
from merchants.tests.helpers import GOOD_ROWS, csv_bytes, xlsx_bytes
from speeches.importers.word import importer, reader
from speeches.importers.word.importer import Batch, Upload, expand, preview_uploads
from speeches.models import SpeechPage
from speeches.tests.samples import build_docx

from . import hostile

ROWS = [list(GOOD_ROWS[0]) for _ in range(6)]
for n, row in enumerate(ROWS):
    row[0], row[3] = f"商户{n}", f"地址{n}"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_row_limit(db, monkeypatch, fmt):
    monkeypatch.setattr("merchants.importing.MAX_ROWS", 5)
    build = xlsx_bytes if fmt == "xlsx" else csv_bytes
    assert len(plan_import(build(ROWS[:5]), f"a.{fmt}").rows) == 5
    with pytest.raises(ImportFileError, match="^文件超过 5 行，请分批导入$"):
        plan_import(build(ROWS), f"a.{fmt}")


def test_row_limit_counts_rows_the_sheet_skips(db, monkeypatch):
    """Rows missing from the XML (a jump to row 1,048,576) count as rows while streaming."""
    monkeypatch.setattr("merchants.importing.MAX_ROWS", 5)
    with pytest.raises(ImportFileError, match="文件超过 5 行"):
        plan_import(hostile.xlsx_huge_dimension(), "a.xlsx")


def test_cells_per_row_and_per_sheet(db, monkeypatch):
    monkeypatch.setattr("merchants.importing.MAX_CELLS_PER_ROW", 12)
    wide = [row + ["备注", "备注"] for row in ROWS[:2]]
    assert plan_import(xlsx_bytes(wide), "a.xlsx").ok  # 12 cells
    with pytest.raises(ImportFileError, match="第 2 行的单元格超过 12 个"):
        plan_import(xlsx_bytes([row + ["多"] for row in wide]), "a.xlsx")
    monkeypatch.setattr("merchants.importing.MAX_CELLS", 40)
    with pytest.raises(ImportFileError, match="表格的单元格超过"):
        plan_import(xlsx_bytes(ROWS), "a.xlsx")
    assert Merchant.objects.count() == 0


def test_file_size_limit(db, monkeypatch):
    monkeypatch.setattr("merchants.importing.MAX_FILE_BYTES", 1024)
    with pytest.raises(ImportFileError, match="^文件超过 1 KB，请拆分后导入$"):
        plan_import(csv_bytes(ROWS * 10), "a.csv")


def test_csv_format_error_is_a_message(db):
    data = ("商户名称,类别,优惠内容\n" + '"' + "长" * 200_000 + '",餐饮,9折\n').encode()
    with pytest.raises(ImportFileError, match="CSV 文件第 .* 行格式有误"):
        plan_import(data, "a.csv")


def test_word_text_limit(speech_index, monkeypatch):
    monkeypatch.setattr(reader, "MAX_TEXT_CHARS", 200)
    short = build_docx(["标题", "同志们：", "今天我们开会。" * 10])
    long = build_docx(["标题", "同志们：", "今天我们开会。" * 40])
    [ok, refused] = preview_uploads([Upload("短.docx", short), Upload("长.docx", long)])
    assert ok.ok and "正文超过" in refused.error and "请拆分" in refused.error


def test_word_batch_text_budget(speech_index, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BATCH_CHARS", 100)
    doc = build_docx(["标题", "同志们：", "今天我们召开全市工会工作会议。" * 10])
    previews = preview_uploads([Upload("一.docx", doc), Upload("二.docx", doc)])
    assert previews[0].ok and "正文总字数超过" in previews[1].error and previews[1].data is None
    assert preview_uploads([Upload("一.docx", doc), Upload("二.docx", doc)], text_budget=False)[1].ok


def zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_document_and_batch_limits(speech_index, speech_docx, monkeypatch):
    monkeypatch.setattr(importer, "ZIP_MAX_DOCUMENTS", 2)
    uploads = expand("材料.zip", zip_of({f"{n}.docx": speech_docx for n in range(3)}))
    assert [bool(u.data) for u in uploads] == [True, True, False]
    assert "Word 文档超过 2 个，其余未处理" in uploads[2].error
    monkeypatch.setattr(importer, "ZIP_MAX_DOCUMENTS", 100)
    batch = Batch(max_files=3)
    uploads = expand("一.docx", speech_docx, batch) + expand("材料.zip", zip_of(
        {f"{n}.docx": speech_docx for n in range(3)}), batch)
    assert [bool(u.data) for u in uploads] == [True, True, True, False]
    assert "本次上传的 Word 文档超过 3 个" in uploads[3].error
    batch = Batch(max_bytes=len(speech_docx) * 2)
    uploads = [batch.take(Upload(f"{n}.docx", speech_docx)) for n in range(3)]
    assert "总大小超过" in uploads[2].error


def test_view_limits_the_files_of_one_upload(admin_client, speech_index, speech_docx, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BATCH_FILES", 2)
    files = [SimpleUploadedFile(f"{n}.docx", speech_docx) for n in range(3)]
    response = admin_client.post(reverse("speeches_docx_import"), {"parent": speech_index.pk, "files": files})
    html = response.content.decode()
    assert response.status_code == 200 and "可导入 2 个" in html and "本次上传的 Word 文档超过 2 个" in html
    assert SpeechPage.objects.count() == 0


def test_word_part_and_total_limits(speech_index, speech_docx, monkeypatch):
    monkeypatch.setattr(reader, "DOCX_MAX_XML_PART", 4096)
    [preview] = preview_uploads(expand("讲话.docx", speech_docx))
    assert "word/styles.xml" in preview.error and "单个不能超过 4 KB" in preview.error
    monkeypatch.setattr(reader, "DOCX_MAX_XML_PART", 10 * hostile.MB)
    monkeypatch.setattr(reader, "DOCX_MAX_TOTAL", 20_000)
    [preview] = preview_uploads(expand("讲话.docx", speech_docx))
    assert "解压后的总大小超过" in preview.error
    assert SpeechPage.objects.count() == 0


def test_members_are_counted_while_reading():
    data = zip_of({"big.xml": b"<a>" + b"x" * 2_000_000 + b"</a>"})
    archive, [info] = check_zip(data, 10, 10 * hostile.MB, 10 * hostile.MB, 10_000)
    with pytest.raises(UploadRejected, match="解压后超过 1 MB"):
        read_member(archive, info, hostile.MB)
    assert len(read_member(archive, info, 3 * hostile.MB)) == 2_000_007


def test_encrypted_and_broken_members():
    data = bytearray(zip_of({"a.xml": b"<a/>" * 1000}))
    data[data.index(b"PK\x01\x02") + 8] |= 1  # the central directory marks the member encrypted
    with pytest.raises(UploadRejected, match="已加密"):
        check_zip(bytes(data), 10, hostile.MB, hostile.MB, 100)
    with pytest.raises(UploadRejected, match="不是有效的 XML"):
        check_zip(zip_of({"a.xml": b"<a><b></a>"}), 10, hostile.MB, hostile.MB, 100, max_xml_elements=100)
    with pytest.raises(UploadRejected, match="文件过多"):
        check_zip(zip_of({f"{n}.xml": b"<a/>" for n in range(11)}), 10, hostile.MB, hostile.MB, 100)
