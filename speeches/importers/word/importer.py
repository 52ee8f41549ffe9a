"""Uploads (.docx files or a .zip of them) -> previews -> draft SpeechPages."""

import io
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.text import slugify

from core.uploads import (
    MB,
    UploadRejected,
    check_zip,
    is_system_file,
    member_name,
    member_parts,
    read_member,
    size_text,
)
from speeches.importers.blocks import to_stream
from speeches.importers.duplicates import ArchiveIndex
from speeches.importers.text_rules import existing_topics, suggest_topics
from speeches.importers.word.errors import DocxImportError
from speeches.importers.word.parse import parse_docx
from speeches.importers.word.reader import max_bytes

logger = logging.getLogger(__name__)
# A .zip of Word documents (a compressed folder, subfolders too): entries (folders and the "__MACOSX" entries
# macOS adds count), documents, bytes once expanded.
ZIP_MAX_MEMBERS = 300
ZIP_MAX_DOCUMENTS = 100
ZIP_MAX_TOTAL = 100 * MB
ZIP_MAX_RATIO = 100
# One admin upload request in all; the text budget bounds the time spent on topics and duplicate checks.
MAX_BATCH_FILES = 100
MAX_BATCH_BYTES = 100 * MB
MAX_BATCH_CHARS = 1_000_000


@dataclass
class Upload:
    name: str  # "讲话.docx", or "材料.zip/讲话.docx" for a document from a zip
    data: bytes | None = None
    error: str = ""
    folder: str = ""  # the folders inside the zip, "2023年讲话/市总"


@dataclass
class Preview:
    name: str
    data: bytes | None = None
    error: str = ""
    parsed: object = None
    blocks: list = field(default_factory=list)  # cleaned blocks that will be saved
    cleanup: list = field(default_factory=list)
    topics: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    folder: str = ""

    @property
    def source(self):
        """The name with the folder it came from, for reports."""
        return f"{self.name}（来自文件夹：{self.folder}）" if self.folder else self.name

    @property
    def ok(self):
        return not self.error

    @property
    def title(self):
        return self.parsed.meta.title if self.parsed else ""

    @property
    def page_title(self):
        return self.title or self.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]

    @property
    def missing(self):
        return self.parsed.meta.missing() if self.parsed else []

    @property
    def warnings(self):
        out = list(self.parsed.warnings) if self.parsed else []
        if self.parsed and not self.title:
            out.append(f"正文未写明标题，暂用文件名“{self.page_title}”作标题，请补充")
        return out


class Batch:
    """What one upload request may hold: a number of Word documents and bytes in all (text: preview_uploads)."""

    def __init__(self, max_files=None, max_bytes=None):
        self.max_files = MAX_BATCH_FILES if max_files is None else max_files
        self.max_bytes = MAX_BATCH_BYTES if max_bytes is None else max_bytes
        self.files = self.bytes = 0

    def refusal(self, size):
        if self.files >= self.max_files:
            return f"本次上传的 Word 文档超过 {self.max_files} 个，此文件未处理，请分批上传"
        if self.bytes + size > self.max_bytes:
            return f"本次上传的文件总大小超过 {size_text(self.max_bytes)}，此文件未处理，请分批上传"
        return ""

    def take(self, upload):
        """The upload, or the upload refused when the batch is full."""
        if upload.data is None or upload.error:
            return upload
        refusal = self.refusal(len(upload.data))
        if refusal:
            return Upload(upload.name, error=refusal, folder=upload.folder)
        self.files += 1
        self.bytes += len(upload.data)
        return upload


def expand(name, data, batch=None):
    """A .zip becomes its .docx members (each bad member listed with its reason); anything else stays one file.

    A zip of a folder (made by Windows or macOS, subfolders too) is read whole: each document keeps the folders
    it was in as a hint, and what the system adds (__MACOSX/, Thumbs.db, desktop.ini) is left out silently.
    The zip's shape is checked first (core.uploads.check_zip); members are read one at a time with a cap."""
    batch = batch or Batch()
    if not name.lower().endswith(".zip"):
        return [batch.take(Upload(name, data))]
    if len(data) > max_bytes() * 5:
        limit = max_bytes() * 5 // 1048576
        return [Upload(name, error=f"压缩包过大（{len(data) / 1048576:.1f} MB），不能超过 {limit} MB")]
    try:
        archive, infos = check_zip(data, ZIP_MAX_MEMBERS, ZIP_MAX_TOTAL, ZIP_MAX_TOTAL, ZIP_MAX_RATIO,
                                   what="压缩包", stream=False, label=member_name)
    except UploadRejected as exc:
        return [Upload(name, error=str(exc))]
    uploads, documents = [], 0
    for info in infos:
        member = member_name(info)
        folders, base = member_parts(member)
        if member.endswith("/") or not base or is_system_file(member):
            continue
        label, folder = f"{name}/{base}", "/".join(folders)
        error = _member_refusal(info, base)
        if error:
            uploads.append(Upload(label, error=error, folder=folder))
            continue
        documents += 1
        if documents > ZIP_MAX_DOCUMENTS:
            uploads.append(Upload(name, error=f"压缩包内的 Word 文档超过 {ZIP_MAX_DOCUMENTS} 个，其余未处理"))
            break
        refusal = batch.refusal(info.file_size)
        if refusal:
            uploads.append(Upload(label, error=refusal, folder=folder))
            continue
        try:
            content = read_member(archive, info, max_bytes(), "压缩包", member_name)
        except UploadRejected:
            uploads.append(Upload(label, error="压缩包中的这个文件已损坏或加密，无法解压", folder=folder))
            continue
        uploads.append(batch.take(Upload(label, content, folder=folder)))
    if not uploads:
        uploads.append(Upload(name, error="压缩包里没有 Word 文档（.docx）"))
    return uploads


def _member_refusal(info, base):
    """Why a zip member is not read as a Word document ("" when it is)."""
    if base.startswith("~$"):
        return "Word 打开文档时留下的临时文件，不是讲话稿，已跳过"
    if info.file_size > max_bytes():
        return f"文件过大（{info.file_size / 1048576:.1f} MB），单个文件不能超过 {max_bytes() // 1048576} MB"
    if base.lower().endswith(".zip"):
        return "压缩包里的压缩包不会展开，请先解压，再把其中的 .docx 直接上传或重新打包"
    if not base.lower().endswith((".docx", ".doc")):
        return "不是 Word 文档（.docx），已跳过"
    return ""


def preview_uploads(uploads, archive=None, known_topics=None, text_budget=True):
    """Parse every upload and gather what the editor must see; nothing is written."""
    archive = archive or ArchiveIndex()
    known = existing_topics() if known_topics is None else known_topics
    max_chars = MAX_BATCH_CHARS if text_budget else None
    previews, chars = [], 0
    for upload in uploads:
        preview = Preview(upload.name, upload.data, upload.error, folder=upload.folder)
        previews.append(preview)
        if preview.error:
            continue
        if max_chars is not None and chars >= max_chars:
            preview.error = f"本次上传的正文总字数超过 {max_chars // 10000} 万字，此文件未处理，请分批上传"
            preview.data = None
            continue
        try:
            parsed = parse_docx(upload.name.rsplit("/", 1)[-1], upload.data)
        except DocxImportError as exc:
            preview.error = str(exc)
            continue
        except Exception:  # a package python-docx opens but whose content it cannot follow
            logger.exception("docx import: cannot parse %s", upload.name)
            preview.error = "文档内容无法识别（可能已损坏），未导入；请在 Word 或 WPS 中打开后另存为 .docx 再试"
            continue
        preview.parsed = parsed
        preview.blocks, preview.cleanup = parsed.cleaned()
        text = parsed.text(preview.blocks)
        chars += len(text)
        preview.topics = suggest_topics(text, known)
        preview.duplicates = archive.find(text)
        archive.add_to_batch(preview.source, preview.page_title, text)
    return previews


def find_speaker(meta):
    from speeches.models import Speaker

    if not meta.speaker_name:
        return None
    same = Speaker.objects.filter(name=meta.speaker_name)
    if meta.speaker_post or meta.speaker_org:
        match = same.filter(post=meta.speaker_post, organisation=meta.speaker_org).first()
        return match or Speaker(name=meta.speaker_name, post=meta.speaker_post, organisation=meta.speaker_org)
    return same.first() or Speaker(name=meta.speaker_name)


def _unique_slug(parent, title):
    """A short pinyin slug, as the page editor gives (search.slugs), with -2, -3 … when a sibling has it."""
    from wagtail.models import Page

    from search.slugs import pinyin_slug

    base = pinyin_slug(title) or slugify(title)[:40].strip("-") or "speech"
    slug, n = base, 1
    siblings = Page.objects.child_of(parent)
    while siblings.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def stream_data(blocks, parent_title, collection=None):
    """Intermediate blocks -> StreamField data; images become Wagtail images here (on confirm only)."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    image_model = get_image_model()

    def image(value):
        kwargs = {"collection": collection} if collection else {}
        stored = image_model(title=f"{parent_title}（插图）"[:255], **kwargs)
        stored.file = ImageFile(io.BytesIO(value.data), name=f"docx-{value.name}")
        stored.save()
        return {"image": stored, "alt_text": value.alt, "decorative": not value.alt}

    return to_stream(blocks, image)


DEFAULT_SOURCE_NOTE = "根据来稿整理"


def create_draft(preview, parent, user=None, topics=None, apply_cleanup=True, source_note=DEFAULT_SOURCE_NOTE,
                 import_key=""):
    """A draft SpeechPage (never published) holding the previewed content."""
    from speeches.models import SpeechPage

    meta = preview.parsed.meta
    blocks = preview.blocks if apply_cleanup else preview.parsed.blocks
    title = typography_title(preview.page_title, apply_cleanup)
    with transaction.atomic():
        speaker = find_speaker(meta)
        if speaker is not None and speaker.pk is None:
            speaker.save()
        page = SpeechPage(
            title=title[:255],
            slug=_unique_slug(parent, title),
            speaker=speaker,
            date_delivered=meta.date,
            meeting=typography_title(meta.meeting, apply_cleanup)[:200],
            org_level=meta.org_level,
            source_note=(source_note or "").strip()[:200],
            live=False,
            import_key=import_key,
        )
        page.body = stream_data(blocks, title)
        if topics:
            page.topics.set([topic[:100] for topic in topics])
        parent.add_child(instance=page)
        page.save_revision(user=user, log_action=True)
    return page


def typography_title(title, apply_cleanup):
    from speeches.importers.typography import clean

    return clean(title) if apply_cleanup else title


def import_paths(paths, parent, user=None, report=None, accept_topics=False):
    """Import files from disk (the management command); returns (created pages, failures)."""
    from pathlib import Path

    uploads = []
    for path in map(Path, paths):
        try:
            uploads += expand(path.name, path.read_bytes())
        except OSError as exc:
            uploads.append(Upload(path.name, error=f"无法读取文件：{exc.strerror}"))
    created, failures = [], []
    for preview in preview_uploads(uploads, text_budget=False):  # no request timeout here
        if not preview.ok:
            failures.append(preview)
            if report:
                report(preview, None)
            continue
        page = create_draft(preview, parent, user, topics=preview.topics if accept_topics else None)
        created.append(page)
        if report:
            report(preview, page)
    return created, failures
