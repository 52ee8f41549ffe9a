from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import models
from django.db.models.functions import ExtractYear
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from core.forms import PortalPageForm
from speeches.blocks import SpeechBodyBlock
from speeches.importers.blocks import plain_text as plain_text_from_stream
from speeches.search.related import related_speeches


class OrgLevel(models.TextChoices):
    NATIONAL = "national", "全总"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    INDUSTRY = "industry", "行业"
    GRASSROOTS = "grassroots", "基层"


class SpeechIndexPage(Page):
    base_form_class = PortalPageForm
    intro = RichTextField("导语", blank=True, features=["bold", "italic", "link"])

    content_panels = Page.content_panels + [FieldPanel("intro")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["speeches.SpeechPage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = "讲话稿库"
        verbose_name_plural = "讲话稿库"

    def speeches(self):
        return (
            SpeechPage.objects.live()
            .public()
            .descendant_of(self)
            .select_related("speaker")
            .order_by(models.F("date_delivered").desc(nulls_last=True), "-first_published_at", "-pk")
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        speeches = self.speeches()
        all_speeches = speeches

        year = request.GET.get("year", "").strip()
        level = request.GET.get("level", "").strip()
        if year.isdigit() and len(year) == 4:
            speeches = speeches.filter(date_delivered__year=int(year))
        else:
            year = ""
        if level == "unknown":
            speeches = speeches.filter(org_level="")
        elif level in OrgLevel.values:
            speeches = speeches.filter(org_level=level)
        else:
            level = ""

        paginator = Paginator(speeches, settings.SPEECHES_PER_PAGE)
        try:
            page_obj = paginator.page(request.GET.get("page", 1))
        except PageNotAnInteger:
            page_obj = paginator.page(1)
        except EmptyPage:
            page_obj = paginator.page(paginator.num_pages)

        years = (
            all_speeches.exclude(date_delivered=None)
            .annotate(y=ExtractYear("date_delivered"))
            .values_list("y", flat=True)
            .order_by("-y")
            .distinct()
        )
        context.update(
            page_obj=page_obj,
            speeches=page_obj.object_list,
            years=list(years),
            levels=OrgLevel.choices,
            selected_year=year,
            selected_level=level,
            filtered=bool(year or level),
        )
        return context


class SpeechPageTag(TaggedItemBase):
    content_object = ParentalKey("speeches.SpeechPage", on_delete=models.CASCADE, related_name="tagged_items")


class SpeechPage(Page):
    base_form_class = PortalPageForm
    speaker = models.ForeignKey(
        "speeches.Speaker",
        verbose_name="讲话人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="speeches",
    )
    date_delivered = models.DateField("讲话日期", null=True, blank=True, help_text="不详时留空")
    meeting = models.CharField("会议/场合", max_length=200, blank=True)
    org_level = models.CharField("组织层级", max_length=20, choices=OrgLevel.choices, blank=True)
    region = models.CharField("地区", max_length=100, blank=True)
    topics = ClusterTaggableManager("主题", through=SpeechPageTag, blank=True)
    summary = models.TextField("摘要", blank=True)
    body = StreamField(SpeechBodyBlock(), verbose_name="正文", blank=True)
    source_note = models.TextField("来源说明", blank=True)
    import_key = models.CharField(max_length=200, blank=True, db_index=True, editable=False)

    content_panels = Page.content_panels + [
        MultiFieldPanel(
            [
                FieldPanel("speaker"),
                FieldPanel("date_delivered"),
                FieldPanel("meeting"),
                FieldPanel("org_level"),
                FieldPanel("region"),
                FieldPanel("topics"),
            ],
            heading="讲话信息",
        ),
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("source_note"),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("summary", boost=2),
        index.SearchField("body"),
        index.SearchField("meeting", boost=2),
        index.SearchField("region"),
        index.RelatedFields("speaker", [index.SearchField("name", boost=2), index.SearchField("post")]),
        index.SearchField("topic_text", boost=2),
        index.FilterField("date_delivered"),
        index.FilterField("org_level"),
        index.FilterField("speaker"),
        index.AutocompleteField("meeting"),
    ]
    # What the search attributes read (search.backends.common.search_columns): topic_text, the prefetched topics.
    search_attribute_fields = {"topic_text": ()}

    parent_page_types = ["speeches.SpeechIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = "讲话稿"
        verbose_name_plural = "讲话稿"
        # The search catalog (speeches/search/catalog.py) reads these columns of every speech from this index:
        # from the table, SQLite would page in each speech's body (speaker_id follows it in the row).
        indexes = [models.Index(fields=["page_ptr", "date_delivered", "org_level", "speaker"], name="speech_catalog")]

    @classmethod
    def get_indexed_objects(cls):
        # Topics in one query for a whole batch (a RelatedFields on the tag manager costs a query per speech).
        tagged = SpeechPageTag.objects.select_related("tag")
        return super().get_indexed_objects().prefetch_related(models.Prefetch("tagged_items", queryset=tagged))

    @classmethod
    def load_search_attributes(cls, pages):
        """update_index's batches (see search.backends.common.BatchIndexMixin): every page's topic text from one query
        of names, instead of the topic objects get_indexed_objects() prefetches."""
        names = {}
        rows = (SpeechPageTag.objects.filter(content_object_id__in=[page.pk for page in pages])
                .order_by("content_object_id", "pk").values_list("content_object_id", "tag__name"))
        for page_id, name in rows:
            names.setdefault(page_id, []).append(name)
        for page in pages:
            page._search_topic_text = " ".join(names.get(page.pk, ()))

    @property
    def topic_text(self):
        """Topic names, for the search index."""
        loaded = self.__dict__.get("_search_topic_text")
        if loaded is not None:
            return loaded
        return " ".join(item.tag.name for item in self.tagged_items.all())

    @property
    def org_level_label(self):
        return self.get_org_level_display() if self.org_level else ""

    def plain_text(self):
        return plain_text_from_stream(self.body)

    @cached_property
    def description(self):
        if self.search_description:
            return self.search_description
        if self.summary:
            return self.summary[:120]
        lines = [line for line in self.plain_text().splitlines() if line.strip()]
        # skip a salutation such as 同志们: so shared links start with content
        if lines and len(lines[0]) <= 30 and lines[0].rstrip().endswith((":", "：")):
            lines = lines[1:]
        return " ".join(lines)[:120] or self.title

    def related_speeches(self, limit=5):
        """Speeches sharing jieba keywords with this one (plus shared topics); see speeches.search.related."""
        return related_speeches(self, limit)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["related"] = self.related_speeches()
        return context
