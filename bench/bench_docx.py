"""Time a 50-document .zip through the admin: upload -> preview -> confirm -> 50 draft SpeechPages.

Runs on a throw-away SQLite database in a temporary directory, against an archive holding the real corpus
(so the duplicate check has something to compare with). Usage: make bench-docx
"""

import io
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = tempfile.mkdtemp(prefix="bench-docx-")
os.environ["PORTAL_VAR_DIR"] = WORK
os.environ.pop("DATABASE_URL", None)
os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.test"
os.environ.setdefault("LOG_LEVEL", "WARNING")
DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "50"))


def main():
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")

    django.setup()
    import re

    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from home.models import HomePage
    from speeches.importers.writer import import_corpus
    from speeches.models import SpeechIndexPage, SpeechPage
    from speeches.tests.samples import build_docx, corpus_entries

    call_command("migrate", verbosity=0)
    home = HomePage.objects.get()
    index = SpeechIndexPage(title="讲话稿库", slug="speeches")
    home.add_child(instance=index)
    index.save_revision().publish()
    corpus = ROOT / "corpus" / "000_1f37454ad7433800.txt"
    import_corpus(corpus, parent=index)
    before = SpeechPage.objects.count()

    entries = corpus_entries(corpus)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(DOCUMENTS):
            label, paragraphs = entries[n % len(entries)]
            items = [f"在全市工会第{n + 1}次工作会议上的讲话", "市总工会主席 张三", "2024年3月5日"] + paragraphs
            if n % 5 == 0:
                items.insert(6, ("table", [["项目", "数量"], ["慰问困难职工", str(100 + n)]]))
                items.insert(8, ("image",))
            archive.writestr(f"讲话{n + 1:02d}-{label}.docx", build_docx(items))
    data = buffer.getvalue()

    user = get_user_model().objects.create_superuser("bench", "bench@example.org", "pw-bench-123")
    client = Client()
    client.force_login(user)

    start = time.perf_counter()
    response = client.post(reverse("speeches_docx_import"), {
        "parent": index.pk, "files": [SimpleUploadedFile("讲话稿.zip", data)],
    })
    preview_done = time.perf_counter()
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html)[1]
    form = {"token": token, "parent": index.pk}
    for i in range(DOCUMENTS):
        form[f"import_{i}"] = "1"
        form[f"cleanup_{i}"] = "1"
        form[f"topics_{i}"] = re.findall(rf'name="topics_{i}" value="([^"]+)"', html)
    response = client.post(reverse("speeches_docx_import_confirm"), form)
    done = time.perf_counter()
    assert response.status_code == 302, response.status_code
    created = SpeechPage.objects.count() - before
    drafts = SpeechPage.objects.filter(live=False).count()
    assert created == drafts == DOCUMENTS, (created, drafts)
    duplicates = html.count("疑似重复：")

    total = done - start
    print(f"Word 导入基准：{DOCUMENTS} 个 .docx 的压缩包（{len(data) / 1024:.0f} KB），讲话稿库已有 {before} 篇")
    print(f"  上传到预览：{preview_done - start:.2f} 秒（含解析、排版清理、主题建议、查重；{duplicates} 条重复提示）")
    print(f"  确认到草稿：{done - preview_done:.2f} 秒（创建 {created} 篇草稿）")
    print(f"  合计：{total:.2f} 秒，平均每篇 {total / DOCUMENTS * 1000:.0f} 毫秒")


if __name__ == "__main__":
    try:
        main()
    finally:
        import shutil

        shutil.rmtree(WORK, ignore_errors=True)
