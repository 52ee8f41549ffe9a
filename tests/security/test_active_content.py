"""Uploaded files never become active content: images are verified by Pillow and stored under their real
format's extension; /media/ serves only safe types, with nosniff and a sandbox CSP; private documents are
reachable only through Wagtail's document view."""

import json
import os
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Collection, CollectionViewRestriction

from speeches.importers.word.importer import Upload, create_draft, preview_uploads

from .hostile import docx_with_image, image_bytes, png_header

HTML = b"<!doctype html><html><body><script>fetch('/admin/')</script></body></html>"


def media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


# Word import ------------------------------------------------------------------------------------------------------

def test_word_part_declared_as_image_but_html_is_dropped(speech_index, speech_docx, settings):
    data = docx_with_image(speech_docx, HTML, "image1.html")
    [preview] = preview_uploads([Upload("讲话.docx", data)])
    assert preview.ok
    assert any("image1.html" in w and "不是有效的图片" in w and "已略过" in w for w in preview.warnings)
    page = create_draft(preview, speech_index)
    assert "image" not in [block.block_type for block in page.body]
    assert Image.objects.count() == 0
    assert not any(name.endswith((".html", ".js")) for name in media_files(settings))


@pytest.mark.parametrize("payload, part, stored", [
    (image_bytes("PNG"), "image1.html", ".png"),  # a real image with an active extension gets its format's
    (image_bytes("PNG"), "script.js", ".png"),
    (image_bytes("JPEG"), "image1.png", ".jpg"),  # declared PNG, really JPEG
    (image_bytes("GIF"), "image1.jpeg", ".gif"),
], ids=["png-named-html", "png-named-js", "jpeg-named-png", "gif-named-jpeg"])
def test_word_images_are_stored_under_their_real_format(speech_index, speech_docx, settings, payload, part, stored):
    data = docx_with_image(speech_docx, payload, part)
    [preview] = preview_uploads([Upload("讲话.docx", data)])
    page = create_draft(preview, speech_index)
    [image_block] = [block for block in page.body if block.block_type == "image"]
    name = image_block.value.file.name
    assert name.startswith("original_images/docx-") and name.endswith(stored), name
    assert not any(f.endswith((".html", ".js", ".jpeg")) for f in media_files(settings))


def test_word_image_decompression_bomb_is_dropped(speech_index, speech_docx):
    data = docx_with_image(speech_docx, png_header(30_000, 30_000), "image1.png")
    [preview] = preview_uploads([Upload("讲话.docx", data)])
    assert any("像素过多" in w and "已略过" in w for w in preview.warnings), preview.warnings
    create_draft(preview, speech_index)
    assert Image.objects.count() == 0


# Wagtail's image upload -------------------------------------------------------------------------------------------

def add_image(client, name, data, title="上传测试"):
    return client.post("/admin/images/add/", {"title": title, "file": SimpleUploadedFile(name, data)})


def test_admin_refuses_html_named_png(admin_client, settings):
    response = add_image(admin_client, "cover.png", HTML)
    assert response.status_code == 200
    assert "不是有效的图片（只支持 PNG、JPEG、GIF、WebP），未上传" in response.content.decode()
    assert Image.objects.count() == 0 and media_files(settings) == []


def test_admin_stores_jpeg_named_png_as_jpg(admin_client, settings):
    response = add_image(admin_client, "cover.png", image_bytes("JPEG"))
    assert response.status_code == 302
    image = Image.objects.get()
    assert image.file.name.endswith(".jpg") and Path(image.file.path).exists()
    assert not any(name.endswith(".png") for name in media_files(settings))


def test_admin_keeps_a_valid_png(admin_client):
    assert add_image(admin_client, "封面.png", image_bytes("PNG")).status_code == 302
    assert Image.objects.get().file.name == "original_images/FengMian.png"  # Wagtail transliterates, as before


def test_admin_drops_a_second_extension(admin_client):
    assert add_image(admin_client, "page.html.png", image_bytes("PNG")).status_code == 302
    assert Image.objects.get().file.name == "original_images/page.png"


@pytest.mark.parametrize("size", [(8000, 8000), (12_000, 12_000), (40_000, 40_000)], ids=["64MP", "144MP", "1600MP"])
def test_admin_refuses_decompression_bombs(admin_client, size):
    # 64 MP is over the site's limit, 144 MP over Pillow's warning (an error here), 1600 MP over its hard stop
    response = add_image(admin_client, "bomb.png", png_header(*size))
    assert response.status_code == 200
    assert "像素过多" in response.content.decode()
    assert Image.objects.count() == 0


def test_editing_keeps_or_checks_the_file(admin_client):
    assert add_image(admin_client, "cover.png", image_bytes("PNG")).status_code == 302
    image = Image.objects.get()
    url = reverse("wagtailimages:edit", args=[image.pk])
    assert admin_client.post(url, {"title": "新标题"}).status_code == 302  # no new file: the old one stays
    image.refresh_from_db()
    assert image.title == "新标题" and image.file.name.endswith(".png")
    response = admin_client.post(url, {"title": "替换", "file": SimpleUploadedFile("new.png", HTML)})
    assert response.status_code == 200 and "不是有效的图片" in response.content.decode()
    image.refresh_from_db()
    assert image.title == "新标题" and image.file.name.endswith(".png")


def test_multiple_upload_refuses_html_and_renames_jpeg(admin_client):
    url = reverse("wagtailimages:add_multiple")
    refused = admin_client.post(url, {"files[]": SimpleUploadedFile("x.png", HTML)})
    body = json.loads(refused.content)
    assert body["success"] is False and "不是有效的图片" in body["error_message"]
    accepted = admin_client.post(url, {"files[]": SimpleUploadedFile("photo.png", image_bytes("JPEG"))})
    assert json.loads(accepted.content)["success"] is True
    assert Image.objects.get().file.name.endswith(".jpg")


def test_chooser_upload_refuses_html(admin_client):
    response = admin_client.post(reverse("wagtailimages_chooser:create"),
                                 {"image-chooser-upload-title": "恶意", "image-chooser-upload-file":
                                  SimpleUploadedFile("x.webp", HTML)})
    assert response.status_code == 200
    assert "不是有效的图片" in json.loads(response.content)["htmlFragment"]
    assert Image.objects.count() == 0


# /media/ ----------------------------------------------------------------------------------------------------------

def put(settings, relative, data):
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def assert_sandboxed(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_media_serves_images_with_safe_headers_and_caching(client, settings, db):
    assert not settings.DEBUG  # the test settings are production-like: /media/ works without DEBUG
    data = image_bytes("PNG")
    put(settings, "original_images/cover.png", data)
    response = client.get("/media/original_images/cover.png")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/png"
    assert_sandboxed(response)
    assert response["Content-Disposition"].startswith("inline")
    assert "max-age=" in response["Cache-Control"] and "public" in response["Cache-Control"]
    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get("/media/original_images/cover.png", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/media/original_images/cover.png", HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    head = client.head("/media/original_images/cover.png")
    assert head.status_code == 200 and head["Content-Type"] == "image/png"
    assert client.post("/media/original_images/cover.png").status_code == 405


@pytest.mark.parametrize("name", ["evil.html", "evil.htm", "evil.svg", "evil.js", "evil.xml", "evil", "evil.PNG.html"])
def test_media_never_serves_html_or_script(client, settings, db, name):
    put(settings, f"original_images/{name}", HTML)
    response = client.get(f"/media/original_images/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert_sandboxed(response)


def test_media_refuses_traversal_dotfiles_and_symlinks(client, settings, db, tmp_path):
    put(settings, "original_images/ok.png", image_bytes())
    put(settings, ".secret", b"x")
    outside = tmp_path / "outside.png"
    outside.write_bytes(image_bytes())
    os.symlink(outside, Path(settings.MEDIA_ROOT) / "original_images" / "link.png")
    (tmp_path / "var").mkdir(exist_ok=True)
    for url in ["/media/../outside.png", "/media/original_images/../../outside.png", "/media/%2e%2e/outside.png",
                "/media/original_images/%2e%2e/%2e%2e/outside.png", "/media/.secret", "/media/original_images/",
                "/media/original_images//ok.png", "/media/original_images/link.png", "/media/original_images\\ok.png",
                "/media/original_images/missing.png", "/media/original_images"]:
        assert client.get(url).status_code == 404, url
    assert client.get("/media/original_images/ok.png").status_code == 200


def test_rendition_of_an_uploaded_image_is_served(admin_client, client, settings):
    assert add_image(admin_client, "cover.png", image_bytes("PNG", (200, 100))).status_code == 302
    rendition = Image.objects.get().get_rendition("width-50")
    response = client.get(rendition.url)
    assert rendition.url.startswith("/media/images/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert_sandboxed(response)


# Documents --------------------------------------------------------------------------------------------------------

@pytest.fixture
def private_document(db):
    root = Collection.get_first_root_node()
    private = root.add_child(instance=Collection(name="内部资料"))
    CollectionViewRestriction.objects.create(collection=private, restriction_type=CollectionViewRestriction.LOGIN)
    document = Document(title="内部通知", collection=private)
    document.file.save("neibu.pdf", ContentFile(b"%PDF-1.4 internal"), save=False)
    document.save()
    return document


def test_private_document_only_through_wagtails_view(client, private_document, admin_user, settings):
    assert settings.WAGTAILDOCS_SERVE_METHOD == "serve_view"
    assert private_document.url.startswith("/documents/")
    assert private_document.file.name.startswith("documents/")
    response = client.get(private_document.url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert re.search(r"/(admin/)?login/", response["Location"])
    assert client.get(f"/media/{private_document.file.name}").status_code == 404
    assert client.get("/media/documents/").status_code == 404
    put(settings, "docx_import/0123/000.docx", b"staged by an older version")
    assert client.get("/media/docx_import/0123/000.docx").status_code == 404
    client.force_login(admin_user)
    allowed = client.get(private_document.url)
    assert allowed.status_code == 200 and b"".join(allowed.streaming_content) == b"%PDF-1.4 internal"
    assert client.get(f"/media/{private_document.file.name}").status_code == 404  # not even for editors


def test_public_document_is_not_served_from_media_either(client, db):
    document = Document(title="公开通知", collection=Collection.get_first_root_node())
    document.file.save("gongkai.pdf", ContentFile(b"%PDF-1.4 public"), save=False)
    document.save()
    assert client.get(document.url).status_code == 200
    assert client.get(f"/media/{document.file.name}").status_code == 404

