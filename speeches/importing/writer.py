"""Write parsed corpus speeches into the page tree, idempotently and in one transaction."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.html import escape

from speeches.importing.corpus import CorpusFormatError, decode, parse_corpus


@dataclass
class ImportSummary:
    source: str
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    removed_lines: int = 0

    def lines(self):
        out = [
            f"导入完成：{self.source}",
            f"  新建 {self.imported} 篇，更新 {self.updated} 篇，未变 {self.unchanged} 篇，"
            f"重复跳过 {len(self.duplicates)} 处，清除站点残留 {self.removed_lines} 行，警告 {len(self.warnings)} 条",
        ]
        out += [f"  重复：{dup}（第{dup.line}行）" for dup in self.duplicates]
        out += [f"  警告：{warning}" for warning in self.warnings]
        return out


def stream_value(blocks):
    value = []
    for block in blocks:
        if block["type"] == "paragraph":
            value.append(["paragraph", f"<p>{escape(block['value'])}</p>"])
        else:
            value.append([block["type"], block["value"]])
    return value


def default_parent():
    from speeches.models import SpeechIndexPage

    parent = SpeechIndexPage.objects.first()
    if parent is None:
        raise CorpusFormatError("站点中还没有“讲话稿库”页面，请先创建或运行 load_demo")
    return parent


def import_corpus(path, parent=None, progress=None):
    """Import a corpus file. Raises CorpusFormatError before writing anything if it is malformed."""
    from speeches.models import SpeechPage

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CorpusFormatError(f"无法读取文件 {path}：{exc.strerror}") from exc
    result = parse_corpus(decode(raw))
    summary = ImportSummary(path.name, duplicates=result.duplicates, warnings=result.warnings,
                            removed_lines=result.removed_lines)
    parent = parent or default_parent()
    total = len(result.speeches)
    with transaction.atomic():
        for index, speech in enumerate(result.speeches, 1):
            key = f"{path.name}#{speech.key_suffix}"
            fields = {
                "title": speech.title,
                "meeting": speech.meeting,
                "org_level": speech.org_level,
                "region": speech.region,
                "date_delivered": speech.date,
                "source_note": f"{path.name} {speech.label}（原文第{speech.start_line}–{speech.end_line}行）",
            }
            body = stream_value(speech.blocks)
            page = SpeechPage.objects.filter(import_key=key).first()
            if page is None:
                slug = speech.slug
                if SpeechPage.objects.child_of(parent).filter(slug=slug).exists():
                    slug = f"{slug}-{path.stem[-8:]}"
                page = SpeechPage(import_key=key, slug=slug, **fields)
                page.body = body
                parent.add_child(instance=page)
                page.topics.set(speech.topics)
                page.save_revision().publish()
                summary.imported += 1
                state = "新建"
            else:
                changed = any(getattr(page, name) != value for name, value in fields.items())
                changed |= [[b["type"], b["value"]] for b in page.body.raw_data] != body
                changed |= sorted(page.topics.names()) != sorted(speech.topics)
                if changed:
                    for name, value in fields.items():
                        setattr(page, name, value)
                    page.body = body
                    page.topics.set(speech.topics)
                    page.save_revision().publish()
                    summary.updated += 1
                    state = "更新"
                else:
                    summary.unchanged += 1
                    state = "未变"
            if progress:
                progress(index, total, f"{speech.label} {state}：{speech.title}")
    return summary
