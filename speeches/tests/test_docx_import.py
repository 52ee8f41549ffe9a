"""Word import end to end: drafts awaiting review, bad files, the command and the admin views."""

import io
import re
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from speeches.importers.word.importer import Upload, create_draft, expand, preview_uploads
from speeches.importers.word.parse import parse_docx
from speeches.importers.word.reader import ENCRYPTED_MARK, OLE_MAGIC
from speeches.models import Speaker, SpeechPage
from speeches.tests.samples import build_docx

SPEECH = [
    "在全市工会工作会议上的讲话",
    "市总工会主席 张三",
    "二〇二四年三月五日",
    "同志们：",
    "今天我们召开全市工会工作会议,总结去年工作，部署今年任务。",
    "一、过去一年的工作",
    "去年全市工会大力推进会员服务卡发放，会员服务卡覆盖率明显提高，职工医疗互助参保人数增长。",
    ("table", [["项目", "人数"], ["职工医疗互助", "1200"]]),
    ("image",),
    "二、今年的主要任务",
    "今年要继续做好送温暖工作，送温暖资金要及时发放到困难职工手中，工资集体协商要扩面提质。",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCX_IMPORT_STAGING_DIR = tmp_path / "staging"


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("docx-admin", "a@example.org", "pw-admin-123")


def docx(items=SPEECH):
    return build_docx(items)


def zip_of(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_confirmed_preview_becomes_a_draft_awaiting_review(speech_index, admin_user):
    from core.roles import WORKFLOW_NAME

    [preview] = preview_uploads([Upload("讲话.docx", docx())])
    assert SpeechPage.objects.count() == 0 and Speaker.objects.count() == 0  # the preview saves nothing
    page = create_draft(preview, speech_index, admin_user, topics=preview.topics[:2])
    page.refresh_from_db()
    assert not page.live and page.has_unpublished_changes
    assert page.get_latest_revision().user == admin_user
    assert page.get_workflow().name == WORKFLOW_NAME
    assert page.title == "在全市工会工作会议上的讲话"
    assert (page.meeting, page.org_level, str(page.date_delivered)) == ("全市工会工作会议", "city", "2024-03-05")
    assert (page.speaker.name, page.speaker.post, page.speaker.organisation) == ("张三", "主席", "市总工会")
    assert sorted(page.topics.names()) == sorted(preview.topics[:2])
    assert [b.block_type for b in page.body] == ["paragraph", "paragraph", "heading", "paragraph", "table", "image",
                                                 "heading", "paragraph"]
    assert "全市工会工作会议，总结去年工作" in page.body[1].value.source  # typography cleaned
    image = page.body[5].value
    assert image.get_rendition("width-20").width == 20
    table = page.body[4].value
    assert [c["heading"] for c in table.columns] == ["项目", "人数"]
    assert not SpeechPage.objects.live().exists()


def test_drafts_get_pinyin_slugs_like_pages_made_in_the_editor(speech_index):
    [preview] = preview_uploads([Upload("讲话.docx", docx())])
    first, second = create_draft(preview, speech_index), create_draft(preview, speech_index)
    assert first.slug == "zai-quanshi-gonghui-gongzuo-huiyi-shang" and second.slug == f"{first.slug}-2"
    [untitled] = preview_uploads([Upload("2024.docx", docx(SPEECH[3:]))])
    assert create_draft(untitled, speech_index).slug == "2024"


def test_speaker_snippet_is_reused(speech_index):
    existing = Speaker.objects.create(name="张三", post="主席", organisation="市总工会")
    [preview] = preview_uploads([Upload("讲话.docx", docx())])
    page = create_draft(preview, speech_index)
    assert page.speaker == existing
    assert Speaker.objects.count() == 1


def test_missing_title_uses_file_name_and_asks(speech_index):
    [preview] = preview_uploads([Upload("会议讲话稿.docx", docx(SPEECH[3:]))])
    assert preview.title == "" and preview.page_title == "会议讲话稿"
    assert "标题" in preview.missing and "讲话人" in preview.missing
    assert any("暂用文件名" in w for w in preview.warnings)


def bad_cases():
    good = docx()
    return {
        "old.doc": (OLE_MAGIC + b"\0" * 512 + "WordDocument".encode("utf-16-le"), "另存为"),
        "locked.docx": (OLE_MAGIC + b"\0" * 512 + ENCRYPTED_MARK, "密码"),
        "broken.docx": (b"PK\x03\x04 this is not really a zip", "损坏"),
        "truncated.docx": (good[: len(good) // 2], "损坏"),
        "garbage.docx": (b"\x00\x01\x02 random bytes", "损坏"),
        "empty.docx": (build_docx([("empty",), ("empty",)]), "空文档"),
        "zero.docx": (b"", "空的"),
        "notes.txt": ("讲话".encode(), "不是 Word 文档"),
    }


@pytest.mark.parametrize("name", list(bad_cases()))
def test_bad_files_get_clear_errors_and_change_nothing(speech_index, name):
    data, message = bad_cases()[name]
    [preview] = preview_uploads(expand(name, data))
    assert not preview.ok and message in preview.error
    assert SpeechPage.objects.count() == 0


def test_docx_with_broken_xml_inside(speech_index):
    source = zipfile.ZipFile(io.BytesIO(docx()))
    members = {info.filename: source.read(info) for info in source.infolist()}
    members["word/document.xml"] = b"<w:document><w:body><w:p>unclosed"
    [preview] = preview_uploads(expand("坏文档.docx", zip_of(members)))
    assert not preview.ok and "损坏" in preview.error
    assert SpeechPage.objects.count() == 0


def test_title_typography_is_previewed(speech_index):
    [preview] = preview_uploads([Upload("讲话.docx", docx(["在全市工会 工作会议上的讲话"] + SPEECH[1:]))])
    assert preview.cleanup[0]["where"] == "标题"
    page = create_draft(preview, speech_index)
    assert page.title == "在全市工会工作会议上的讲话" and page.meeting == "全市工会工作会议"


def test_file_over_the_size_limit(speech_index, settings):
    settings.DOCX_IMPORT_MAX_BYTES = 20_000
    [preview] = preview_uploads(expand("big.docx", docx() + b"\0" * 30_000))
    assert "文件过大" in preview.error


def test_zip_with_a_subfolder_and_other_files(speech_index):
    data = zip_of({
        "讲话一.docx": docx(),
        "子文件夹/讲话二.docx": docx(),
        "照片.jpg": b"\xff\xd8\xff",
        "旧稿.doc": OLE_MAGIC + b"\0" * 100,
        "~$讲话一.docx": b"lock",
        "__MACOSX/._讲话一.docx": b"x",
    })
    previews = preview_uploads(expand("会议材料.zip", data))
    by_name = {p.name.split("/", 1)[1]: p for p in previews}
    assert set(by_name) == {"讲话一.docx", "讲话二.docx", "照片.jpg", "旧稿.doc", "~$讲话一.docx"}
    assert by_name["讲话一.docx"].ok and by_name["讲话一.docx"].folder == ""
    assert by_name["讲话二.docx"].ok and by_name["讲话二.docx"].folder == "子文件夹"
    assert "不是 Word 文档" in by_name["照片.jpg"].error
    assert "另存为" in by_name["旧稿.doc"].error
    assert "临时文件" in by_name["~$讲话一.docx"].error


def test_corrupt_zip(speech_index):
    [preview] = preview_uploads(expand("材料.zip", b"PK\x03\x04broken"))
    assert "压缩包已损坏" in preview.error


def test_command_prints_one_line_per_file_and_a_summary(speech_index, tmp_path):
    good = tmp_path / "讲话.docx"
    good.write_bytes(docx())
    old = tmp_path / "旧稿.doc"
    old.write_bytes(OLE_MAGIC + b"\0" * 100)
    bundle = tmp_path / "材料.zip"
    bundle.write_bytes(zip_of({"另一篇.docx": docx(SPEECH[3:]), "说明.txt": b"x"}))
    out = io.StringIO()
    call_command("import_docx", str(good), str(old), str(bundle), "--parent", "speeches", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].startswith("[草稿] 讲话.docx → 《在全市工会工作会议上的讲话》")
    assert lines[1].startswith("[失败] 旧稿.doc：") and "另存为" in lines[1]
    assert lines[2].startswith("[草稿] 材料.zip/另一篇.docx") and "请补充" in lines[2]
    assert lines[3].startswith("[失败] 材料.zip/说明.txt")
    assert lines[-1].startswith("共处理 4 个文件：创建草稿 2 篇，失败 2 个")
    assert SpeechPage.objects.count() == 2 and not SpeechPage.objects.live().exists()


def test_command_unknown_parent(speech_index, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="找不到"):
        call_command("import_docx", str(tmp_path / "x.docx"), "--parent", "nope")


def test_admin_upload_preview_confirm(client, speech_index, admin_user):
    client.force_login(admin_user)
    explore = client.get(reverse("wagtailadmin_explore", args=[speech_index.pk]))
    assert "导入 Word 讲话稿" in explore.content.decode()
    url = reverse("speeches_docx_import")
    assert client.get(url, {"parent": speech_index.pk}).status_code == 200

    files = [SimpleUploadedFile("讲话.docx", docx()), SimpleUploadedFile("无标题.docx", docx(SPEECH[3:])),
             SimpleUploadedFile("旧稿.doc", OLE_MAGIC + b"\0" * 100)]
    response = client.post(url, {"parent": speech_index.pk, "files": files})
    html = response.content.decode()
    assert response.status_code == 200
    for expected in ["在全市工会工作会议上的讲话", "市总工会主席 张三", "2024年3月5日", "市级", "请补充", "建议主题",
                     "会员服务卡", "另存为", "排版清理", "一、过去一年的工作", "疑似重复"]:
        assert expected in html, expected
    assert SpeechPage.objects.count() == 0
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)[1]
    response = client.post(reverse("speeches_docx_import_confirm"), {
        "token": token, "parent": speech_index.pk, "import_0": "1", "cleanup_0": "1", "topics_0": ["会员服务卡"],
        "import_1": "1", "import_2": "1",
    })
    assert response.status_code == 302
    pages = list(SpeechPage.objects.order_by("pk"))
    assert [p.title for p in pages] == ["在全市工会工作会议上的讲话", "无标题"]
    assert list(pages[0].topics.names()) == ["会员服务卡"]
    assert "全市工会工作会议，总结" in pages[0].body[1].value.source
    assert "全市工会工作会议,总结" in pages[1].body[1].value.source  # clean-up not chosen for this one
    assert all(not p.live for p in pages)
    # the staged upload is gone: confirming again changes nothing
    again = client.post(reverse("speeches_docx_import_confirm"), {"token": token, "parent": speech_index.pk,
                                                                   "import_0": "1"})
    assert again.status_code == 302 and SpeechPage.objects.count() == 2


def test_admin_upload_without_files_and_bad_token(client, speech_index, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("speeches_docx_import"), {"parent": speech_index.pk})
    assert response.status_code == 400 and "请选择要上传" in response.content.decode()
    response = client.post(reverse("speeches_docx_import_confirm"), {"token": "../../etc", "parent": speech_index.pk},
                           follow=True)
    assert "导入已过期或无效" in response.content.decode()
    assert SpeechPage.objects.count() == 0


def test_editor_without_rights_cannot_import(client, speech_index):
    user = get_user_model().objects.create_user("nobody", password="pw-nobody-123")
    client.force_login(user)
    response = client.get(reverse("speeches_docx_import"))
    assert response.status_code == 302


def test_editor_group_can_import(client, speech_index):
    from django.contrib.auth.models import Group

    from core.roles import EDITORS

    user = get_user_model().objects.create_user("editor", password="pw-editor-123")
    user.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(user)
    response = client.post(reverse("speeches_docx_import"),
                           {"parent": speech_index.pk, "files": [SimpleUploadedFile("讲话.docx", docx())]})
    assert response.status_code == 200 and "确认导入为草稿" in response.content.decode()


def test_speech_check_shows_diff_duplicates_and_applies_to_a_new_draft(client, speech_index, admin_user):
    from speeches.tests.factories import SpeechPageFactory

    body = "<p>同志们,今天召开会议.要 加 强和-谐劳动关系建设,详见 https://example.org/a,b 网站。"
    body += "职工服务要落到实处，" * 10 + "</p>"
    page = SpeechPageFactory(parent=speech_index, title="在全市工会工作会议上的讲话（检查）",
                             body=[("paragraph", body)])
    page.save_revision().publish()
    twin = SpeechPageFactory(parent=speech_index, title="另一标题", body=[("paragraph", body)])
    twin.save_revision().publish()
    client.force_login(admin_user)
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).content.decode()
    assert reverse("speeches_speech_check", args=[page.pk]) in edit

    html = client.get(reverse("speeches_speech_check", args=[page.pk])).content.decode()
    assert "疑似重复" in html and "另一标题" in html
    assert '<del class="docx-del">,</del><ins class="docx-ins">，</ins>' in html
    response = client.post(reverse("speeches_speech_check", args=[page.pk]))
    assert response.status_code == 302
    page.refresh_from_db()
    live_text = page.body[0].value.source
    assert "同志们,今天" in live_text  # the live version is untouched
    draft = page.get_latest_revision_as_object()
    text = draft.body[0].value.source
    assert "同志们，今天召开会议。要加强和谐劳动关系建设，详见 https://example.org/a,b 网站。" in text
    assert page.has_unpublished_changes


def test_speech_check_accepts_topics(client, speech_index, admin_user):
    from speeches.tests.factories import SpeechPageFactory

    page = SpeechPageFactory(parent=speech_index)
    client.force_login(admin_user)
    response = client.post(reverse("speeches_speech_add_topics", args=[page.pk]), {"topics": ["送温暖", "疗休养"]})
    assert response.status_code == 302
    page.refresh_from_db()
    draft = page.get_latest_revision_as_object()
    assert set(draft.topics.names()) == {"送温暖", "疗休养"}


def test_preview_unticks_duplicates_shows_headings_and_sets_a_reader_source_note(client, speech_index, admin_user):
    from speeches.tests.factories import SpeechPageFactory

    client.force_login(admin_user)
    original = parse_docx("讲话.docx", docx())
    SpeechPageFactory(parent=speech_index, slug="old", title="旧的讲话", body=[
        ("paragraph", f"<p>{block['value']}</p>") for block in original.blocks if block["type"] == "paragraph"])
    fresh = docx(["在全区职工书屋建设推进会上的讲话", "同志们：",
                  "今年要在全区新建职工书屋二十家，让一线职工就近读书学习。", "各基层工会要配齐管理员，延长开放时间。"])
    files = [SimpleUploadedFile("讲话.docx", docx()), SimpleUploadedFile("新稿.docx", fresh)]
    html = client.post(reverse("speeches_docx_import"), {"parent": speech_index.pk, "files": files}).content.decode()
    first = html[html.index('data-docx-file="讲话.docx"'):html.index('data-docx-file="新稿.docx"')]
    assert "疑似重复" in first and 'name="import_0" value="1">' in first and "默认不导入" in first
    assert 'name="import_1" value="1" checked>' in html
    assert "<h3>一、过去一年的工作</h3>" in html and "【h2】" not in html
    assert 'name="source_note_0" value="根据来稿整理"' in html
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)[1]
    client.post(reverse("speeches_docx_import_confirm"), {"token": token, "parent": speech_index.pk, "import_1": "1",
                                                          "cleanup_1": "1", "source_note_1": "市总工会办公室供稿"})
    page = SpeechPage.objects.get(title="在全区职工书屋建设推进会上的讲话")
    assert page.source_note == "市总工会办公室供稿" and ".docx" not in page.source_note


def test_word_import_has_a_sidebar_entry_for_those_who_may_add_speeches(client, speech_index, admin_user):
    from django.contrib.auth.models import Group

    from core.roles import EDITORS

    client.force_login(admin_user)
    assert "speeches-docx-import" in client.get("/admin/").content.decode()
    editor = get_user_model().objects.create_user("bj", password="pw-editor-123")
    editor.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(editor)
    assert "speeches-docx-import" in client.get("/admin/").content.decode()
    nobody = get_user_model().objects.create_user("nb", password="pw-nobody-123")
    nobody.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(nobody)
    assert "speeches-docx-import" not in client.get("/admin/").content.decode()
