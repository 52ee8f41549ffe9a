"""Zips made the usual way: a compressed folder from Windows (GBK names without the UTF-8 flag) or macOS, with
subfolders and the files the system adds; the limits of core.uploads still refuse bombs."""

import io
import re
import struct
import zipfile
import zlib

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from core.uploads import UTF8_FLAG, member_name
from speeches.importers.word import importer
from speeches.importers.word.importer import expand, preview_uploads
from speeches.models import SpeechPage
from speeches.tests.test_docx_import import docx
from tests.security import hostile

OTHER = ["在全区职工书屋建设推进会上的讲话", "区总工会主席 李四", "2023年6月8日", "同志们：",
         "今年要在全区新建职工书屋二十家，让一线职工就近读书学习。", "各基层工会要配齐管理员，延长开放时间。"]
THIRD = ["在一季度劳动竞赛总结会上的讲话", "王五（市总工会副主席）", "同志们：",
         "一季度全市劳动竞赛覆盖职工十二万人，技术革新成果八十项。", "二季度要把竞赛延伸到新就业形态劳动者。"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCX_IMPORT_STAGING_DIR = tmp_path / "staging"


class WindowsName(zipfile.ZipInfo):
    """Writes the name as the bytes it was given (cp437 characters) and never sets the UTF-8 flag, like
    Windows "Send to compressed folder"; zipfile itself would write UTF-8 with the flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits & ~UTF8_FLAG


def windows_zip(members, encoding="gbk"):
    """members: {name: bytes, or None for a folder entry}; names stored in ``encoding`` without the flag."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = WindowsName(name.encode(encoding).decode("cp437"), date_time=(2024, 3, 5, 9, 30, 0))
            info.create_system = 0  # MS-DOS / Windows
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if data is None else data)
    data = buffer.getvalue()
    for info in zipfile.ZipFile(io.BytesIO(data)).infolist():
        assert not info.flag_bits & UTF8_FLAG  # the archive really is a flagless one
    return data


def folder_zip():
    """What compressing the folder 2023年讲话 on Chinese Windows gives (plus a Mac's leftovers)."""
    return windows_zip({
        "2023年讲话/": None,
        "2023年讲话/市总/": None,
        "2023年讲话/市总/在全市工会工作会议上的讲话.docx": docx(),
        "2023年讲话/市总/Thumbs.db": b"\xd0\xcf\x11\xe0thumbs",
        "2023年讲话/市总/desktop.ini": b"[.ShellClassInfo]",
        "2023年讲话/区总/基层/一季度职工书屋讲话.docx": docx(OTHER),
        "2023年讲话/区总/DESKTOP.INI": b"[.ShellClassInfo]",
        "2023年讲话/劳动竞赛讲话.docx": docx(THIRD),
        "2023年讲话/说明.txt": "请审核".encode("gbk"),
        "2023年讲话/~$全市工会工作会议.docx": b"lock",
        "__MACOSX/2023年讲话/._劳动竞赛讲话.docx": b"\x00\x05\x16\x07",
        "2023年讲话/.DS_Store": b"\x00\x00\x00\x01Bud1",
    })


def zip_info(data):
    return zipfile.ZipFile(io.BytesIO(data)).infolist()


@pytest.mark.parametrize("name, encoding", [
    ("2023年讲话/市总/在全市工会工作会议上的讲话.docx", "gbk"),
    ("一季度讲话.docx", "gbk"),
    ("一一.docx", "gbk"),  # in GBK D2 BB D2 BB, valid UTF-8 ("һһ"): must not be read as UTF-8
    ("淺談工會/講話.docx", "gbk"),  # 淺 ends with byte 0x5C ("\\"): decoded before backslashes become "/"
    ("𠮷祥讲话.docx", "gb18030"),  # a character outside GBK, four bytes in GB18030
    ("2023年讲话/市总/讲话稿.docx", "utf-8"),  # macOS Archive Utility: UTF-8 without the flag
])
def test_flagless_names_are_read_as_written(name, encoding):
    [info] = zip_info(windows_zip({name: b"x"}, encoding))
    assert info.filename != name  # zipfile's own reading is cp437 mojibake
    assert member_name(info) == name


def test_names_with_the_flag_ascii_names_backslashes_and_undecodable_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("市总/讲话.docx", b"x")  # zipfile sets the UTF-8 flag
        archive.writestr("speech.docx", b"x")
    flagged, ascii_name = zip_info(buffer.getvalue())
    assert flagged.flag_bits & UTF8_FLAG and member_name(flagged) == "市总/讲话.docx"
    assert member_name(ascii_name) == "speech.docx"
    [backslashed] = zip_info(windows_zip({"2023年讲话\\市总\\讲话.docx": b"x"}))  # old Windows tools
    assert member_name(backslashed) == "2023年讲话/市总/讲话.docx"
    # bytes that are neither UTF-8 nor GB18030 (0x80, 0xFF): zipfile's reading is kept, nothing raises
    [broken] = zip_info(windows_zip({"\x80\xff.docx": b"x"}, "latin-1"))
    assert member_name(broken) == broken.filename == b"\x80\xff.docx".decode("cp437")


def test_unicode_path_extra_field_wins_when_it_matches():
    """WinRAR and Info-ZIP add the UTF-8 name in an extra field (0x7075) checked by the CRC of the header name."""
    raw = "讲话.docx".encode("gbk")

    def with_extra(name, crc_of):
        unicode_path = struct.pack("<BL", 1, zlib.crc32(crc_of)) + name.encode("utf-8")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            info = WindowsName(raw.decode("cp437"))
            info.extra = struct.pack("<HH", 0x7075, len(unicode_path)) + unicode_path
            archive.writestr(info, b"x")
        return zip_info(buffer.getvalue())[0]

    assert member_name(with_extra("讲话稿（定稿）.docx", raw)) == "讲话稿（定稿）.docx"
    assert member_name(with_extra("别的名字.docx", b"renamed later")) == "讲话.docx"  # stale field: ignored


def test_folder_zip_from_windows_is_read_with_its_folders(speech_index):
    uploads = expand("2023年讲话.zip", folder_zip())
    listed = [(u.name, u.folder, bool(u.data), u.error.split("，")[0]) for u in uploads]
    assert listed == [
        ("2023年讲话.zip/在全市工会工作会议上的讲话.docx", "2023年讲话/市总", True, ""),
        ("2023年讲话.zip/一季度职工书屋讲话.docx", "2023年讲话/区总/基层", True, ""),
        ("2023年讲话.zip/劳动竞赛讲话.docx", "2023年讲话", True, ""),
        ("2023年讲话.zip/说明.txt", "2023年讲话", False, "不是 Word 文档（.docx）"),
        ("2023年讲话.zip/~$全市工会工作会议.docx", "2023年讲话", False, "Word 打开文档时留下的临时文件"),
    ]  # folders, Thumbs.db, desktop.ini, .DS_Store and __MACOSX/ are left out without a word
    previews = preview_uploads(uploads)
    assert [p.title for p in previews if p.ok] == [
        "在全市工会工作会议上的讲话", "在全区职工书屋建设推进会上的讲话", "在一季度劳动竞赛总结会上的讲话"]
    assert previews[1].parsed.meta.speaker_name == "李四"
    assert previews[2].parsed.meta.speaker_org == "市总工会"


def test_a_zip_inside_the_zip_is_named_not_opened(speech_index):
    inner = windows_zip({"讲话.docx": docx()})
    [upload] = expand("材料.zip", windows_zip({"材料/旧材料.zip": inner}))
    assert upload.folder == "材料" and "压缩包里的压缩包不会展开" in upload.error


def test_a_zip_of_only_folders_and_system_files(speech_index):
    data = windows_zip({"空文件夹/": None, "空文件夹/Thumbs.db": b"x", "__MACOSX/._a.docx": b"x"})
    [upload] = expand("空.zip", data)
    assert upload.error == "压缩包里没有 Word 文档（.docx）"


@pytest.fixture
def editor_client(client, speech_index):
    from django.contrib.auth.models import Group

    from core.roles import EDITORS

    user = get_user_model().objects.create_user("folder-editor", password="pw-editor-123")
    user.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(user)
    return client


def test_admin_preview_shows_the_folders_and_confirm_imports_them(editor_client, speech_index):
    url = reverse("speeches_docx_import")
    response = editor_client.post(url, {"parent": speech_index.pk,
                                        "files": [SimpleUploadedFile("2023年讲话.zip", folder_zip())]})
    html = response.content.decode()
    assert response.status_code == 200 and "可导入 3 个，无法导入 2 个" in html
    for expected in ["2023年讲话.zip/在全市工会工作会议上的讲话.docx</label> "
                     '<span class="docx-folder">来自文件夹：2023年讲话/市总</span>',
                     "来自文件夹：2023年讲话/区总/基层", "2023年讲话.zip/说明.txt "
                     '<span class="docx-folder">来自文件夹：2023年讲话</span>']:
        assert expected in html, expected
    assert "Thumbs.db" not in html and "desktop.ini" not in html.lower() and "__MACOSX" not in html
    assert SpeechPage.objects.count() == 0
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)[1]
    response = editor_client.post(reverse("speeches_docx_import_confirm"), {
        "token": token, "parent": speech_index.pk, "import_0": "1", "import_1": "1", "import_2": "1",
        "cleanup_0": "1", "cleanup_1": "1", "cleanup_2": "1",
    })
    assert response.status_code == 302
    pages = {page.title: page for page in SpeechPage.objects.all()}
    assert set(pages) == {"在全市工会工作会议上的讲话", "在全区职工书屋建设推进会上的讲话",
                          "在一季度劳动竞赛总结会上的讲话"}
    assert not any(page.live for page in pages.values())
    assert pages["在全区职工书屋建设推进会上的讲话"].speaker.name == "李四"
    assert str(pages["在全区职工书屋建设推进会上的讲话"].date_delivered) == "2023-06-08"


def test_command_report_names_the_folder(speech_index, tmp_path):
    bundle = tmp_path / "2023年讲话.zip"
    bundle.write_bytes(folder_zip())
    out = io.StringIO()
    call_command("import_docx", str(bundle), "--parent", "speeches", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("[草稿] 2023年讲话.zip/在全市工会工作会议上的讲话.docx（来自文件夹：2023年讲话/市总）"
                               " → 《在全市工会工作会议上的讲话》")
    assert lines[3].startswith("[失败] 2023年讲话.zip/说明.txt（来自文件夹：2023年讲话）：不是 Word 文档")
    assert lines[-1].startswith("共处理 5 个文件：创建草稿 3 篇，失败 2 个")


def gbk_bomb():
    """A folder zip whose one "document" is 20 MB of zeros (about 20 KB compressed)."""
    return windows_zip({"2023年讲话/": None, "2023年讲话/市总/会议讲话.docx": bytes(20 * hostile.MB)})


def many_members():
    return windows_zip({f"2023年讲话/第{n}篇讲话.docx": b"x" for n in range(importer.ZIP_MAX_MEMBERS + 1)})


def lying_member():
    """The header says 1 KB; the member expands to 11 MB (over the 10 MB a document may have)."""
    data = bytes(11 * hostile.MB)
    name, compressed, crc, _real, _declared = hostile.entry("2023年讲话/市总/讲话.docx", data)
    return hostile.raw_zip([(name, compressed, crc, len(data), 1024)])


@pytest.mark.parametrize("build, message", [
    (gbk_bomb, "压缩包内的“2023年讲话/市总/会议讲话.docx”压缩比异常"),
    (many_members, f"压缩包内的文件过多（{importer.ZIP_MAX_MEMBERS + 1} 个）"),
    (lying_member, "压缩包中的这个文件已损坏或加密，无法解压"),
], ids=["ratio", "members", "lying-size"])
def test_folder_zips_still_meet_the_limits(admin_client, speech_index, build, message):
    data = build()
    [upload] = expand("2023年讲话.zip", data)
    assert message in upload.error and upload.data is None
    response = admin_client.post(reverse("speeches_docx_import"), {
        "parent": speech_index.pk, "files": [SimpleUploadedFile("2023年讲话.zip", data)]})
    assert response.status_code == 200 and message in response.content.decode()
    assert SpeechPage.objects.count() == 0


def test_documents_in_folders_count_towards_the_zip_limit(speech_index, monkeypatch):
    monkeypatch.setattr(importer, "ZIP_MAX_DOCUMENTS", 2)
    data = windows_zip({"甲/一.docx": docx(), "甲/乙/二.docx": docx(OTHER), "丙/三.docx": docx(THIRD)})
    uploads = expand("材料.zip", data)
    assert [bool(u.data) for u in uploads] == [True, True, False]
    assert "Word 文档超过 2 个，其余未处理" in uploads[2].error
