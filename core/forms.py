"""The admin form of every page of the portal: short pinyin slugs, clashes resolved or explained in Chinese."""

from django import forms
from django.utils.text import slugify
from wagtail.admin.forms import WagtailAdminPageForm

from search.slugs import has_chinese, pinyin_slug

SLUG_CLASH = "网址别名“{slug}”已被同一栏目下的页面“{title}”使用，请换一个（只能用小写字母、数字和连字符）。"
MAX_SUFFIX = 1000


def sibling_with_slug(parent, slug, instance):
    if parent is None:
        return None
    siblings = parent.get_children().filter(slug=slug)
    if instance.pk:
        siblings = siblings.exclude(pk=instance.pk)
    return siblings.first()


def free_slug(parent, slug, instance):
    """The slug, or the first of slug-2, slug-3 … that no sibling uses (drafts left by autosave included)."""
    candidate = slug
    for n in range(2, MAX_SUFFIX):
        if sibling_with_slug(parent, candidate, instance) is None:
            return candidate
        candidate = f"{slug}-{n}"
    return candidate


class PortalPageForm(WagtailAdminPageForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "页面网址的最后一段；留空则按标题拼音自动生成。"

    def clean(self):
        data = self.cleaned_data
        if "slug" not in self.fields or "slug" not in data:
            return super().clean()
        title = data.get("title") or self.instance.title or ""
        slug = data.get("slug") or ""
        creating = self.instance.pk is None
        typed = bool(slug) and not (creating and has_chinese(title) and slug == slugify(title))
        if not typed:
            slug = pinyin_slug(title) or "page"
        clash = sibling_with_slug(self.parent_page, slug, self.instance)
        if clash is not None and (creating or not typed):
            slug, clash = free_slug(self.parent_page, slug, self.instance), None
        data["slug"] = slug
        if clash is not None:
            self.add_error("slug", forms.ValidationError(SLUG_CLASH.format(slug=slug, title=clash.title)))
            data.pop("slug", None)  # add_error drops it too: the generic English check is skipped
        return super().clean()
