"""Write parsed corpus speeches into the page tree: idempotent, in batches of pages created in bulk.

The whole file is checked (and its duplicates found) before anything is written, so a malformed file changes
nothing. Pages are then written `batch_size` to a transaction: new ones in bulk under the parent (tree paths
numbered after its last child, one revision each, published, logged as Wagtail logs a publish), changed ones
through Wagtail's own save_revision().publish(). If a batch fails, earlier batches stay; running the import again
completes it (pages are found by their import key and updated, never duplicated).
"""

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, Prefetch
from django.utils import timezone

from speeches.importers.blocks import to_stream
from speeches.importers.corpus import CorpusFormatError, FileLines, scan_corpus
from speeches.importers.duplicates import index_pages

logger = logging.getLogger(__name__)

BATCH_SIZE = 200  # pages per transaction
STATUS_EVERY = 1000  # speeches between two status lines (or STATUS_SECONDS, whichever comes first)
STATUS_SECONDS = 10


class ImportInterrupted(CorpusFormatError):
    """The file changed (or could not be read) while it was being written: earlier batches are kept."""

    def __init__(self, message, written):
        self.written = written
        super().__init__(message)


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


def default_parent():
    from speeches.models import SpeechIndexPage

    parent = SpeechIndexPage.objects.first()
    if parent is None:
        raise CorpusFormatError("站点中还没有“讲话稿库”页面，请先创建或运行 load_demo")
    return parent


def import_corpus(path, parent=None, progress=None, batch_size=BATCH_SIZE, index=True, status=None):
    """Import a corpus file. Raises CorpusFormatError before writing anything if it is malformed.

    progress(index, total, message) is called for every speech, inside its batch's transaction; status(message)
    gets a line every STATUS_EVERY speeches or STATUS_SECONDS while the file is checked and written. With
    index=False the search index is left to `manage.py update_index`.
    """
    path = Path(path)
    source = FileLines(path)
    timer = _Every(STATUS_EVERY, STATUS_SECONDS)

    def checked(count, offset):
        if status and timer.due(count):
            status(f"正在检查文件：已读 {count} 篇（{offset / 1e6:.1f}/{source.size / 1e6:.1f} MB）…")

    scan = scan_corpus(source, progress=checked)
    summary = ImportSummary(path.name, duplicates=scan.duplicates, warnings=scan.warnings,
                            removed_lines=scan.removed_lines)
    if status:
        status(f"检查完成：{scan.total} 篇待写入，重复 {len(scan.duplicates)} 处，警告 {len(scan.warnings)} 条")
    writer = _Writer(path, parent or default_parent(), summary, index)
    total, done, committed, batch = scan.total, 0, 0, []
    timer = _Every(STATUS_EVERY, STATUS_SECONDS)

    def report(speech, state):
        nonlocal done
        done += 1
        if progress:
            progress(done, total, f"{speech.label} {state}：{speech.title}")

    def flush():
        nonlocal committed
        writer.write(batch, report)
        committed = done
        batch.clear()
        if status and (timer.due(done) or done == total):
            status(f"已处理 {done}/{total} 篇…")

    try:
        for speech in scan.speeches():
            batch.append(speech)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    except CorpusFormatError as exc:
        if committed:
            raise ImportInterrupted(str(exc), committed) from exc
        raise
    finally:
        writer.finish()
    return summary


class _Every:
    """True every `count` items or `seconds`, whichever comes first."""

    def __init__(self, count, seconds):
        self.count, self.seconds = count, seconds
        self.last_count, self.last_time = 0, time.monotonic()

    def due(self, count):
        now = time.monotonic()
        if count - self.last_count >= self.count or now - self.last_time >= self.seconds:
            self.last_count, self.last_time = count, now
            return True
        return False


class _Writer:
    def __init__(self, path, parent, summary, index):
        from django.contrib.contenttypes.models import ContentType
        from wagtail.models import Page

        from speeches.models import SpeechPage

        self.path, self.parent, self.summary, self.index = path, parent, summary, index
        self.content_type = ContentType.objects.get_for_model(SpeechPage)
        self.page_type = ContentType.objects.get_for_model(Page)
        self.tag_model = SpeechPage.topics.through.tag_model()
        self.tags = {}
        self.changed_pages = False

    def fields(self, speech):
        return {
            "title": speech.title,
            "meeting": speech.meeting,
            "org_level": speech.org_level,
            "region": speech.region,
            "date_delivered": speech.date,
            "source_note": f"{self.path.name} {speech.label}（原文第{speech.start_line}–{speech.end_line}行）",
        }

    def write(self, batch, report):
        """Write one batch in one transaction; report(speech, state) is called for each, inside it."""
        from wagtail.models import Page

        from speeches.models import SpeechPage, SpeechPageTag

        keys = [f"{self.path.name}#{speech.key_suffix}" for speech in batch]
        states = []
        with transaction.atomic():
            Page.objects.select_for_update().filter(pk=self.parent.pk).first()  # one writer under this parent
            tagged = Prefetch("tagged_items", queryset=SpeechPageTag.objects.select_related("tag"))
            existing = {page.import_key: page for page in
                        SpeechPage.objects.filter(import_key__in=keys).prefetch_related(tagged)}
            new = []
            for speech, key in zip(batch, keys, strict=True):
                fields, body = self.fields(speech), to_stream(speech.blocks)
                page = existing.get(key)
                if page is None:
                    new.append((speech, key, fields, body))
                    states.append("新建")
                    continue
                changed = any(getattr(page, name) != value for name, value in fields.items())
                changed |= [[b["type"], b["value"]] for b in page.body.raw_data] != body
                changed |= sorted(item.tag.name for item in page.tagged_items.all()) != sorted(speech.topics)
                if changed:
                    for name, value in fields.items():
                        setattr(page, name, value)
                    page.body = body
                    page.topics.set(speech.topics)
                    page.save_revision().publish()  # indexed by Wagtail's signal, as an editor's publish is
                    self.changed_pages = True
                    self.summary.updated += 1
                    states.append("更新")
                else:
                    self.summary.unchanged += 1
                    states.append("未变")
            if new:
                created = self.create(new)
                self.summary.imported += len(new)
                self.changed_pages = True
                if self.index:
                    self.add_to_index(created)
            for speech, state in zip(batch, states, strict=True):
                report(speech, state)

    def tag_objects(self, names):
        missing = [name for name in dict.fromkeys(names) if name not in self.tags]
        if missing:
            found = {tag.name: tag for tag in self.tag_model.objects.filter(name__in=missing)}
            for name in missing:
                self.tags[name] = found.get(name) or self.tag_model.objects.create(name=name)
        return [self.tags[name] for name in names]

    def slugs(self, speeches):
        """Each speech's slug, free among the parent's children (the file's stem added on a clash, as before)."""
        from wagtail.models import Page

        stem = self.path.stem[-8:]
        wanted = [speech.slug for speech in speeches]
        taken = set(Page.objects.child_of(self.parent).filter(
            slug__in=wanted + [f"{slug}-{stem}" for slug in wanted]).values_list("slug", flat=True))
        out = []
        for slug in wanted:
            candidate, n = slug, 1
            if candidate in taken:
                candidate = f"{slug}-{stem}"
            while candidate in taken or (n > 1 and Page.objects.child_of(self.parent).filter(slug=candidate).exists()):
                n += 1
                candidate = f"{slug}-{stem}-{n}"
            taken.add(candidate)
            out.append(candidate)
        return out

    def create(self, new):
        """Create published pages in bulk; returns their ids."""
        from wagtail.models import Page, PageLogEntry, Revision

        from speeches.models import SpeechPage, SpeechPageTag

        parent, now = self.parent, timezone.now()
        last = (Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
                .order_by("-path").values_list("path", flat=True).first())
        step = Page._str2int(last[-Page.steplen:]) if last else 0
        pages = []
        for (speech, key, fields, body), slug in zip(new, self.slugs([item[0] for item in new]), strict=True):
            step += 1
            page = SpeechPage(
                slug=slug, draft_title=fields["title"], content_type=self.content_type, live=True,
                has_unpublished_changes=False, locale_id=parent.locale_id, depth=parent.depth + 1, numchild=0,
                path=Page._get_path(parent.path, parent.depth + 1, step), url_path=f"{parent.url_path}{slug}/",
                import_key=key, **fields,
            )
            if len(page.path) > Page._meta.get_field("path").max_length:
                raise CorpusFormatError("讲话稿库下的页面层级过深，无法再添加子页面")
            page.body = body
            page.wagtail_admin_comments = []  # known empty: no query per page when serialised
            page.tagged_items = [SpeechPageTag(tag=tag) for tag in self.tag_objects(speech.topics)]
            pages.append(page)

        page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
        rows = [Page(**{f.attname: getattr(page, f.attname) for f in page_fields}) for page in pages]
        for row in rows:
            row.first_published_at = row.last_published_at = row.latest_revision_created_at = now
        Page.objects.bulk_create(rows)
        for page, row in zip(pages, rows, strict=True):
            page.pk = page.id = page.page_ptr_id = row.pk
        local = list(SpeechPage._meta.local_concrete_fields)
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quote(SpeechPage._meta.db_table)} ({', '.join(quote(f.column) for f in local)}) "
                f"VALUES ({', '.join(['%s'] * len(local))})",
                [[f.get_db_prep_save(getattr(page, f.attname), connection) for f in local] for page in pages],
            )
        SpeechPageTag.objects.bulk_create([SpeechPageTag(content_object_id=page.pk, tag=item.tag)
                                           for page in pages for item in page.tagged_items.all()])
        # The revision holds the page as save_revision() sees it before publish() (no publication dates yet).
        revisions = [
            Revision(content_type_id=self.content_type.pk, base_content_type_id=self.page_type.pk,
                     object_id=str(page.pk), object_str=page.title[:255], content=page.serializable_data(),
                     created_at=now)
            for page in pages
        ]
        Revision.objects.bulk_create(revisions)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {quote(Page._meta.db_table)} SET {quote('latest_revision_id')} = %s, "
                f"{quote('live_revision_id')} = %s WHERE {quote('id')} = %s",
                [[revision.pk, revision.pk, page.pk] for page, revision in zip(pages, revisions, strict=True)],
            )
        PageLogEntry.objects.bulk_create(
            PageLogEntry(content_type_id=self.content_type.pk, label=page.title, action=action, data={},
                         timestamp=now, revision_id=revision_id, content_changed=True, page_id=page.pk)
            for page, revision in zip(pages, revisions, strict=True)
            for action, revision_id in (("wagtail.create", None), ("wagtail.publish", revision.pk))
        )
        index_pages(pages)
        Page.objects.filter(pk=parent.pk).update(numchild=F("numchild") + len(pages))
        parent.numchild += len(pages)
        return [page.pk for page in pages]

    def add_to_index(self, ids):
        from modelsearch.backends import get_search_backends_with_name

        from speeches.models import SpeechPage

        objects = list(SpeechPage.get_indexed_objects().filter(pk__in=ids))
        for name, backend in get_search_backends_with_name(with_auto_update=True):
            try:
                with transaction.atomic():
                    backend.add_bulk(SpeechPage, objects)
            except Exception:
                logger.exception("Exception raised while adding imported speeches into the '%s' search backend", name)
                if not backend.catch_indexing_errors:
                    raise
                self.summary.warnings.append(f"搜索引擎“{name}”未能收录本批讲话，请稍后运行 update_index")

    def finish(self):
        if self.changed_pages:
            from core.pagecache import purge

            purge()
