"""Uploaded files are restricted by type and size; rich text from editors is sanitised."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from speeches.models import SpeechPage
from speeches.tests.factories import SpeechPageFactory


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("uploader", "u@example.com", "pw-uploader-123")
    client.force_login(user)
    return client


def test_image_upload_rejects_other_types(admin_client):
    fake = SimpleUploadedFile("evil.svg", b'<svg onload="alert(1)"></svg>', content_type="image/svg+xml")
    response = admin_client.post("/admin/images/add/", {"title": "恶意", "file": fake})
    assert response.status_code == 200  # form shown again with an error
    assert Image.objects.count() == 0


def test_image_upload_rejects_oversize(admin_client, settings):
    settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = 1024
    data = get_test_image_file(size=(800, 800)).file.getvalue()
    image = SimpleUploadedFile("big.png", data, content_type="image/png")
    response = admin_client.post("/admin/images/add/", {"title": "太大", "file": image})
    assert response.status_code == 200
    assert Image.objects.count() == 0


def test_image_upload_accepts_png(admin_client):
    upload = SimpleUploadedFile("cover.png", get_test_image_file().file.getvalue(), content_type="image/png")
    response = admin_client.post("/admin/images/add/", {"title": "封面", "file": upload})
    assert response.status_code == 302
    assert Image.objects.count() == 1


def test_document_upload_rejects_executables(admin_client):
    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = admin_client.post("/admin/documents/add/", {"title": "程序", "file": exe})
    assert response.status_code == 200
    assert Document.objects.count() == 0


def test_rich_text_is_sanitised(client, speech_index):
    page = SpeechPageFactory(
        parent=speech_index,
        body=[("paragraph", '<p>正文<script>alert(1)</script><a href="javascript:alert(2)">链接</a>'
                            '<img src=x onerror="alert(3)"></p>')],
    )
    html = client.get(SpeechPage.objects.get(pk=page.pk).url).content.decode()
    assert "<script>alert(1)" not in html
    assert "javascript:alert" not in html
    assert 'onerror="alert(3)"' not in html
    assert "正文" in html
