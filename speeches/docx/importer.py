"""Uploads (.docx files or a .zip of them) -> previews -> draft SpeechPages."""

import io
import logging
import zipfile
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.html import escape
from django.utils.text import slugify

from speeches.docx.duplicates import ArchiveIndex
from speeches.docx.errors import DocxImportError
from speeches.docx.parse import parse_docx
from speeches.docx.reader import max_bytes
from speeches.docx.topics import existing_topics, suggest_topics

logger = logging.getLogger(__name__)
MAX_ZIP_MEMBERS = 200
NESTED = "位于压缩包的子文件夹中，未导入（请把 .docx 直接放在压缩包里，不要套文件夹）"
SKIPPED_MEMBERS = ("__MACOSX/", ".DS_Store", "Thumbs.db")


@dataclass
class Upload:
    name: str
    data: bytes | None = None
    error: str = ""


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


def _member_name(info):
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")  # zips made on Chinese Windows
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def expand(name, data):
    """A .zip becomes its .docx members (each bad member listed with its reason); anything else stays one file."""
    if not name.lower().endswith(".zip"):
        return [Upload(name, data)]
    if len(data) > max_bytes() * 5:
        limit = max_bytes() * 5 // 1048576
        return [Upload(name, error=f"压缩包过大（{len(data) / 1048576:.1f} MB），不能超过 {limit} MB")]
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return [Upload(name, error="压缩包已损坏，无法打开")]
    uploads = []
    for info in infos[:MAX_ZIP_MEMBERS]:
        member = _member_name(info)
        label = f"{name}/{member}"
        base = member.rstrip("/").rsplit("/", 1)[-1]
        if info.is_dir() or any(part in member for part in SKIPPED_MEMBERS):
            continue
        if "/" in member.strip("/"):
            uploads.append(Upload(label, error=NESTED))
            continue
        if base.startswith("~$"):
            uploads.append(Upload(label, error="Word 打开文档时留下的临时文件，不是讲话稿，已跳过"))
            continue
        if info.file_size > max_bytes():
            uploads.append(Upload(label, error=f"文件过大（{info.file_size / 1048576:.1f} MB），"
                                               f"单个文件不能超过 {max_bytes() // 1048576} MB"))
            continue
        if not base.lower().endswith((".docx", ".doc")):
            uploads.append(Upload(label, error="不是 Word 文档（.docx），已跳过"))
            continue
        try:
            uploads.append(Upload(label, archive.read(info)))
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            uploads.append(Upload(label, error="压缩包中的这个文件已损坏或加密，无法解压"))
    if len(infos) > MAX_ZIP_MEMBERS:
        uploads.append(Upload(name, error=f"压缩包内文件超过 {MAX_ZIP_MEMBERS} 个，其余未处理"))
    if not uploads:
        uploads.append(Upload(name, error="压缩包里没有 Word 文档（.docx）"))
    return uploads


def preview_uploads(uploads, archive=None, known_topics=None):
    """Parse every upload and gather what the editor must see; nothing is written."""
    archive = archive or ArchiveIndex()
    known = existing_topics() if known_topics is None else known_topics
    previews = []
    for upload in uploads:
        preview = Preview(upload.name, upload.data, upload.error)
        previews.append(preview)
        if preview.error:
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
        preview.topics = suggest_topics(text, known)
        preview.duplicates = archive.find(text)
        archive.add_to_batch(upload.name, preview.page_title, text)
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
    from wagtail.models import Page

    base = slugify(title, allow_unicode=True)[:60].strip("-") or "speech"
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
    data = []
    for block in blocks:
        kind, value = block["type"], block["value"]
        if kind == "paragraph":
            data.append(("paragraph", f"<p>{escape(value)}</p>"))
        elif kind == "image":
            kwargs = {"collection": collection} if collection else {}
            image = image_model(title=f"{parent_title}（插图）"[:255], **kwargs)
            image.file = ImageFile(io.BytesIO(value.data), name=f"docx-{value.name}")
            image.save()
            data.append(("image", {"image": image, "alt_text": value.alt, "decorative": not value.alt}))
        elif kind == "table":
            header, *rows = value
            data.append(("table", {
                "columns": [{"type": "text", "heading": cell} for cell in header],
                "rows": [{"values": row} for row in rows],
                "caption": "",
            }))
        else:
            data.append((kind, value))
    return data


DEFAULT_SOURCE_NOTE = "根据来稿整理"


def create_draft(preview, parent, user=None, topics=None, apply_cleanup=True, source_note=DEFAULT_SOURCE_NOTE):
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
        )
        page.body = stream_data(blocks, title)
        if topics:
            page.topics.set([topic[:100] for topic in topics])
        parent.add_child(instance=page)
        page.save_revision(user=user, log_action=True)
    return page


def typography_title(title, apply_cleanup):
    from speeches.docx.typography import clean

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
    for preview in preview_uploads(uploads):
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
